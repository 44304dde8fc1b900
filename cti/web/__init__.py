"""The web client (specs/web.md): its built assets and the face that serves them and carries
its MQTT over WebSocket to the broker."""
