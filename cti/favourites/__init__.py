"""Favourites (DIR-05): each user's own grouped favourites, colleagues and contacts.

A colleague is named by their account (the stable id of a person, USER-01); the UI shows
their busy lamp (``lamps/{device}``, CALL-11) and can pick up their ringing call
(directedPickupCall, CALL-10). A contact is a name and a canonical number. Only the owner
reads and changes them (specs/favourites.md).
"""
