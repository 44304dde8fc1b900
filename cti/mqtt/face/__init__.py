"""The MQTT face of a node: requests and replay in, the outbox publishing events and states out."""
