"""The certificates of the embedded broker's TLS listener, made at the first start.

A private CA (``ca.crt``: give it to clients, they verify the broker with it) and a server
certificate for the names the broker is reached by (``server.crt``, ``server.key``), in the
node's data directory (``cti broker-config``: in its ``--out`` directory's ``tls/``). The key is
written mode 0640, never world-readable: an operator's Mosquitto, dropping privileges to its
own user, reads it through the group (``chgrp -R mosquitto``), which a rewrite keeps; the
certificates are public (0644). An operator's own files may be used instead
(``--tls-cert``/``--tls-key``/``--tls-ca``). Made with the cryptography package.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cti.mqtt.files import replace_file

VALID_DAYS = 3650
DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
KEY_MODE = 0o640  # the broker's user reads it through the group; never the world
CERT_MODE = 0o644


@attrs.frozen
class CertFiles:
    ca: Path  # what clients verify the broker with
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _alt_names(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return out


def ensure(directory: Path, node: str, names: Iterable[str] = DEFAULT_NAMES) -> CertFiles:
    """The broker's certificate files in ``directory``, made now if they are not there."""
    files = CertFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    if files.ca.exists() and files.cert.exists() and files.key.exists():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"cti {node} CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(names)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0] if names else node))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(_alt_names(names)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    replace_file(files.key, _key_bytes(key), KEY_MODE)
    replace_file(files.cert, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)
    # The CA key is not kept: nothing else is ever signed with it (a new CA comes with new files).
    replace_file(files.ca, ca.public_bytes(serialization.Encoding.PEM), CERT_MODE)
    return files
