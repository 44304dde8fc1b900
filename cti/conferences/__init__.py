"""Application conferences (CONF-01..08): rooms that participants dial into with PINs, run by
moderators from their clients; each participant's call is a two-party call with the site's
dial-in (MeetMe) device, the context holds the room (specs/conferences.md)."""
