"""The ``cti`` commands behind cti/cli.py: serve, request, csta, demo, replay, calls."""
