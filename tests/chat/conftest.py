"""The chat's MQTT tests use the security tests' node (one per module: the example office with
its embedded, access-controlled Mosquitto) and the tests/mqtt fixtures for `cti serve` runs."""

from tests.mqtt.conftest import mosquitto, servers
from tests.security.conftest import secure_node

__all__ = ["mosquitto", "secure_node", "servers"]
