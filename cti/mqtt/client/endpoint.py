"""Where a broker is and who we are there: what every tool's ``--mqtt-url``, ``--user``,
``--password`` (or ``CTI_PASSWORD``) and ``--ca-file`` options make."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import attrs

from cti.mqtt.client.connection import MqttClient, Tls

PASSWORD_ENV = "CTI_PASSWORD"  # a password in the environment is not in `ps` output
SCHEMES = {"mqtt": 1883, "tcp": 1883, "mqtts": 8883, "ssl": 8883}


@attrs.frozen
class Endpoint:
    host: str
    port: int
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    tls: Tls | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        env: Mapping[str, str] = os.environ,
    ) -> Endpoint:
        """``mqtt://HOST[:PORT]`` (1883) or ``mqtts://HOST[:PORT]`` (TLS, 8883, verified
        against ``ca_file`` or the system's CAs). The password, if not given, comes from
        ``CTI_PASSWORD``. ValueError with a message for people."""
        parsed = urlparse(url)
        if parsed.scheme not in SCHEMES or not parsed.hostname:
            raise ValueError(f"--mqtt-url must look like mqtt://HOST:PORT, not {url!r}")
        if parsed.username or parsed.password:
            raise ValueError("put the user in --user and the password in CTI_PASSWORD, not the URL")
        tls = None
        if parsed.scheme in ("mqtts", "ssl"):
            tls = Tls(ca_file)
        elif ca_file is not None:
            raise ValueError("--ca-file is for mqtts:// URLs")
        if password is None and username is not None:
            password = env.get(PASSWORD_ENV)
        return cls(parsed.hostname, parsed.port or SCHEMES[parsed.scheme], username, password, tls)

    def client(self, client_id: str, **options: Any) -> MqttClient:
        return MqttClient(
            self.host,
            self.port,
            client_id,
            username=self.username,
            password=self.password,
            tls=self.tls,
            **options,
        )


def add_arguments(parser: argparse.ArgumentParser, *, user: str | None = None) -> None:
    """The broker options every command line that talks to a node shares."""
    parser.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883", help="the node's broker")
    parser.add_argument(
        "--user", default=user, help=f"the account to sign in as (default: {user or 'none'})"
    )
    parser.add_argument(
        "--password", default=None, help=f"its password (better: the {PASSWORD_ENV} variable)"
    )
    parser.add_argument("--ca-file", type=Path, default=None, help="CA of an mqtts:// broker")


def from_arguments(args: argparse.Namespace, *, node: str | None = None) -> Endpoint:
    """The endpoint of :func:`add_arguments`' options; ValueError for a bad one. A ``{node}``
    in ``--user`` becomes ``node`` (``--user 'phone-sim@{node}'`` on a shared broker)."""
    user = args.user
    if user is not None and node is not None:
        user = user.replace("{node}", node)
    return Endpoint.from_url(
        args.mqtt_url, username=user, password=args.password, ca_file=args.ca_file
    )
