"""Read models computed from the log: device connection-state summaries, redial lists."""
