"""The journal (JOUR-01..05): every call of a user with its outcome, folders with counts,
notes with reminders, done marks and deletions. Entries are decided from the call events
(:mod:`cti.journal.calls`); what a user does with them is this context's commands and events;
the per-user journal is a read model that follows the log (:mod:`cti.journal.journal_db`)."""
