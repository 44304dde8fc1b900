"""Directories (DIR-01..04, DIR-06): each user's personal directory, the internal directory
(the site's users and groups), the system directory (the site's speed dials), search over all
three and caller identification.

The personal directory is state of the node (its changes are commands whose events are in the
log); the search index is a read model following the log in a SQLite file of its own
(``index_db``, FTS5). See specs/directory.md.
"""
