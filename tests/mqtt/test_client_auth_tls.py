"""Our MQTT client signs in and speaks TLS (issue: users): against a real Mosquitto with a
password file in the format the node writes (cti.mqtt.passwords) and a TLS listener with the
certificates the node makes (cti.mqtt.certs)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.mqtt import certs
from cti.mqtt.broker import free_port, wait_listening
from cti.mqtt.client import ConnectionRefused, MqttClient, MqttError, Tls
from cti.mqtt.passwords import mosquitto_hash, mosquitto_verify
from tests.mqtt.conftest import TIMEOUT, Mosquitto

PASSWORD = "S3cret!pass"


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[tuple[Mosquitto, int, certs.CertFiles]]:
    """A broker that knows one user (330) and also listens with TLS."""
    files = certs.ensure(tmp_path / "tls", "node1")
    passwords = tmp_path / "passwd"
    passwords.write_text(f"330:{mosquitto_hash(PASSWORD)}\n")
    tls_port = free_port()
    broker = Mosquitto(tmp_path)
    broker.configure(
        allow_anonymous=False,
        extra=(
            f"password_file {passwords}\n"
            f"listener {tls_port} 127.0.0.1\n"
            f"certfile {files.cert}\nkeyfile {files.key}\n"
        ),
    )
    await broker.start()
    await wait_listening("127.0.0.1", tls_port, timeout=TIMEOUT)
    try:
        yield broker, tls_port, files
    finally:
        broker.stop()


async def test_sign_in_with_the_right_password(secured: tuple[Mosquitto, int, object]) -> None:
    broker, _, _ = secured
    async with MqttClient(broker.host, broker.port, "t1", username="330", password=PASSWORD) as c:
        assert c.connected
        await c.subscribe([("cti/node1/status", 1)])
    assert not c.connected


@pytest.mark.parametrize(
    ("username", "password"), [(None, None), ("330", "wrong"), ("999", PASSWORD)]
)
async def test_anonymous_and_wrong_credentials_are_refused(
    secured: tuple[Mosquitto, int, object], username: str | None, password: str | None
) -> None:
    broker, _, _ = secured
    client = MqttClient(broker.host, broker.port, "t2", username=username, password=password)
    with pytest.raises(ConnectionRefused) as info:
        await client.connect()
    assert info.value.credentials and isinstance(info.value, MqttError)


async def test_tls_verified_with_the_generated_ca(
    secured: tuple[Mosquitto, int, certs.CertFiles], tmp_path: Path
) -> None:
    _, tls_port, files = secured
    tls = Tls(ca_file=files.ca)
    async with MqttClient("127.0.0.1", tls_port, "t3", username="330", password=PASSWORD, tls=tls):
        pass
    # Another CA does not vouch for this broker: the client refuses to talk to it.
    other = certs.ensure(tmp_path / "other", "elsewhere")
    stranger = MqttClient("127.0.0.1", tls_port, "t4", tls=Tls(ca_file=other.ca))
    with pytest.raises(ssl.SSLCertVerificationError):
        await stranger.connect()
    # Nor does a name the certificate is not for.
    wrong_name = Tls(ca_file=files.ca, server_hostname="pbx.example")
    with pytest.raises(ssl.SSLCertVerificationError):
        await MqttClient("127.0.0.1", tls_port, "t5", tls=wrong_name).connect()


def test_certificates_are_made_once_with_the_key_never_world_readable(tmp_path: Path) -> None:
    """The key is 0640: the broker's user may read it through the group, nobody else."""
    first = certs.ensure(tmp_path, "node1")
    assert (first.key.stat().st_mode & 0o777) == 0o640
    assert (first.cert.stat().st_mode & 0o777) == (first.ca.stat().st_mode & 0o777) == 0o644
    again = certs.ensure(tmp_path, "node1")
    assert again == first and again.ca.read_bytes() == first.ca.read_bytes()


def test_our_hashes_and_mosquitto_passwd_agree(tmp_path: Path) -> None:
    """Both directions: mosquitto_passwd's hash verifies with our code (the broker accepting
    ours is the sign-in test above)."""
    path = tmp_path / "pw"
    path.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(path), "alice", PASSWORD], check=True)
    stored = path.read_text().strip().split(":", 1)[1]
    assert mosquitto_verify(PASSWORD, stored) and not mosquitto_verify("nope", stored)
    ours = mosquitto_hash(PASSWORD)
    assert ours.startswith("$7$") and mosquitto_verify(PASSWORD, ours)
