"""Accounts: the users of the site and what each may change about how the switch serves them.

Today the per-user settings of USER-04: a MULAP user's assigned phone for outgoing CTI calls
(CALL-14) and a mobility user's dial method (CALL-15). The site file gives each its first value;
a change is a command, recorded as an event, and from then on the log wins
(specs/configuration.md). Sign-in, passwords and licences (USER-01..05) grow here.
"""
