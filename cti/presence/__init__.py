"""Presence as a context of the node (PRES-01..05): each user's status with an optional
return time and info text, and per status where calls go while the user is absent.

See specs/presence.md. The status doNotDisturb is not kept here: it is the switch's
do-not-disturb feature of the user's phone (cti.calls), the one truth every entry point writes;
:mod:`cti.presence.view` derives the presence a user shows from both.
"""
