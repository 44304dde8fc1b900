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
PLAIN_SCHEMES = {"mqtt": 1883, "tcp": 1883}  # a URL's scheme and its default port
TLS_SCHEMES = {"mqtts": 8883, "ssl": 8883}
SCHEMES = PLAIN_SCHEMES | TLS_SCHEMES


def broker_urls(
    text: str, schemes: Mapping[str, int] = PLAIN_SCHEMES
) -> list[tuple[str, str, int]]:
    """(scheme, host, port) of each broker of ``mqtt://A:1883,mqtt://B``: the members of one
    broker cluster, tried in turn (specs/mqtt.md "A NATS cluster as the broker tier"); the
    port defaults by scheme. ValueError with a message for people, which never quotes a
    URL that holds a password."""
    found = []
    for url in (part.strip() for part in text.split(",")):
        if not url:
            raise ValueError(
                f"--mqtt-url must look like mqtt://HOST:PORT, not {text!r} (an empty URL)"
            )
        parsed = urlparse(url)
        if parsed.username or parsed.password:  # it would show in `ps`, and in this error
            raise ValueError(
                "put no user or password in --mqtt-url: a tool takes the user in --user and "
                f"the password in {PASSWORD_ENV}; `cti serve` signs in as its node"
            )
        try:
            port = parsed.port or schemes.get(parsed.scheme)
        except ValueError:  # a port that is no number, or out of range
            port = None
        if parsed.scheme not in schemes or not parsed.hostname or port is None:
            raise ValueError(f"--mqtt-url must look like mqtt://HOST:PORT, not {url!r}")
        found.append((parsed.scheme, parsed.hostname, port))
    return found


def parse_urls(text: str) -> list[tuple[str, int]]:
    """(host, port) of each broker of the node's ``--mqtt-url`` (no TLS to the broker)."""
    return [(host, port) for _, host, port in broker_urls(text)]


def password_of(given: str | None, env: Mapping[str, str] = os.environ) -> str | None:
    """The password a tool signs in with: ``--password`` if given, else ``CTI_PASSWORD``;
    None if neither."""
    return given if given is not None else env.get(PASSWORD_ENV)


def add_password(parser: argparse.ArgumentParser, *, otherwise: str = "") -> None:
    """The ``--password`` option of every tool that signs in (read by :func:`password_of`);
    ``otherwise`` says what the tool does without either."""
    parser.add_argument(
        "--password",
        default=None,
        help=f"its password (better: the {PASSWORD_ENV} variable){otherwise}",
    )


@attrs.frozen
class Endpoint:
    host: str
    port: int
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    tls: Tls | None = None
    # The other members of the same broker cluster (``--mqtt-url A,B,C``), tried in turn.
    others: tuple[tuple[str, int], ...] = ()

    @property
    def members(self) -> list[tuple[str, int]]:
        return [(self.host, self.port), *self.others]

    def member(self, index: int) -> Endpoint:
        """Member ``index`` (counted round the cluster) with the same account and TLS."""
        host, port = self.members[index % len(self.members)]
        return attrs.evolve(self, host=host, port=port, others=())

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
        against ``ca_file`` or the system's CAs); several, comma-separated, are the members
        of one broker cluster. The password, if not given, comes from ``CTI_PASSWORD``.
        ValueError with a message for people."""
        members = broker_urls(url, SCHEMES)
        if len({scheme for scheme, _, _ in members}) > 1:
            raise ValueError(f"the members of one broker cluster share a scheme: {url!r}")
        (scheme, host, port), *more = members
        others = tuple((h, p) for _, h, p in more)
        tls = None
        if scheme in TLS_SCHEMES:
            tls = Tls(ca_file)
        elif ca_file is not None:
            raise ValueError("--ca-file is for mqtts:// URLs")
        if username is not None:
            password = password_of(password, env)
        return cls(host, port, username, password, tls, others)

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
    parser.add_argument(
        "--mqtt-url",
        default="mqtt://127.0.0.1:1883",
        help="the node's broker (default mqtt://127.0.0.1:1883); the members of a broker "
        "cluster comma-separated",
    )
    parser.add_argument(
        "--user", default=user, help=f"the account to sign in as (default: {user or 'none'})"
    )
    add_password(parser)
    parser.add_argument("--ca-file", type=Path, default=None, help="CA of an mqtts:// broker")


def from_arguments(args: argparse.Namespace, *, node: str | None = None) -> Endpoint:
    """The endpoint of :func:`add_arguments`' options; ValueError for a bad one. A ``{node}``
    in ``--user`` becomes ``node`` (``--user 'phone-sim@{node}'`` on a shared broker)."""
    if args.ca_file is not None and not args.ca_file.is_file():
        # Else the TLS handshake fails with a bare "No such file" read as "no broker".
        raise ValueError(f"--ca-file {args.ca_file}: no such file")
    user = args.user
    if user is not None and node is not None:
        user = user.replace("{node}", node)
    return Endpoint.from_url(
        args.mqtt_url, username=user, password=args.password, ca_file=args.ca_file
    )
