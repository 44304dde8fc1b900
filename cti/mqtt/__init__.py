"""The MQTT face: topics, payloads, requests in, the outbox publisher out, the broker we manage."""
