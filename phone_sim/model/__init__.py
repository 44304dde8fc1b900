"""What a phone is and shows, derived only from the documents the node publishes."""
