"""The MQTT face's fixtures on both brokers (tests/mqtt: ``broker`` is parametrised over
Mosquitto and NATS), for tests/conferences/test_brokers.py."""

from tests.mqtt.conftest import broker, node_face, ui  # noqa: F401  (fixtures)
