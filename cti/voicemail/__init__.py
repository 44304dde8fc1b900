"""Voicemail as a context of the node (VM-01..VM-08): a mailbox per user with the voicemail
licence, its messages (the audio outside the log, content-addressed), folders, the PIN and its
throttle, the greeting, playback on a phone; voicemail to e-mail is a follower of the log."""
