"""`make bench`: speed and memory of the engine, its MQTT path and its log (see BENCHMARKS.md)."""
