"""The signed-in node of the security tests, for presence over MQTT (tests/security)."""

from tests.security.conftest import secure_node

__all__ = ["secure_node"]
