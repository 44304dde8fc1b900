"""Command-line tools built on the engine: the demo and log replay."""
