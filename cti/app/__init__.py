"""The application: the single writer of a node (decide -> append -> apply), its engine and
clock, the log followers, the configuration and the wiring of ``cti serve``."""
