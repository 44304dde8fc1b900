"""Read models computed from the node state: device connection-state summaries."""
