"""``cti serve``'s settings from ``CTI_...`` environment variables, beside its flags.

A flag given on the command line wins, then the environment, then the default; an empty
variable counts as unset (``CTI_SITE=`` in a systemd EnvironmentFile). A bad value is an
:class:`EnvError` naming the variable, one line (specs/configuration.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from cti.ops.threshold import DiskThreshold
from cti.web.forwarded import LOOPBACK, trusted_proxies

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class EnvError(ValueError):
    """A ``CTI_...`` variable has a value ``cti serve`` cannot use; one line."""


def port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: any free one, or off, as the setting says)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"{value} is not a port number (0-65535)")
    return value


def at_least(low: int) -> Callable[[str], int]:
    """A parser of whole numbers from ``low`` on."""

    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
        if value < low:
            raise ValueError(f"{value}: give {low} or more")
        return value

    return whole


count = at_least(0)  # a whole number from 0 (0: no limit, as the setting says)


def positive(text: str) -> float:
    """A finite number above 0 (a rate, a duration)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value > 0:  # also NaN
        raise ValueError(f"{text}: give more than 0")
    if not math.isfinite(value):  # a count derived from it would be an OverflowError
        raise ValueError(f"{text}: give a finite number")
    return value


def seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{text!r} is not a positive number of seconds")
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text.lower()

    return parse


def boolean(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise ValueError(f"{text!r} is not a yes/no value (1/0, true/false, yes/no, on/off)")


def mqtt_url(text: str) -> str:
    from cti.mqtt.client import parse_urls  # here: the command line starts faster without it

    try:
        parse_urls(text)
    except ValueError:
        raise ValueError(
            f"{text!r} does not look like mqtt://HOST:PORT (or several, comma-separated)"
        ) from None
    return text


def store_location(text: str) -> str:
    from cti.store.location import parse  # here: psycopg loads only for a PostgreSQL log

    return parse(text)


def add_store_option(parser: Any) -> None:
    """``--store`` of `cti serve` and of the tools that open the node's log (an
    ``argparse.ArgumentParser``); None when not given: ``resolve`` fills it in."""
    parser.add_argument(
        "--store",
        type=checked(store_location, "store"),
        default=None,
        help="the event log: sqlite (default, <node>.db in --data-dir) or a PostgreSQL "
        "connection string postgresql://USER@HOST:PORT/DBNAME, password in PGPASSWORD or "
        "~/.pgpass (specs/store.md) [CTI_STORE]",
    )


def checked(parse: Callable[[str], Any], name: str | None = None) -> Callable[[str], Any]:
    """``parse`` as an argparse type whose message names the problem (argparse shows only
    "invalid value" for a ValueError); ``name`` is how argparse calls the value."""
    import argparse

    def check(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    check.__name__ = name or str(getattr(parse, "__name__", "value"))
    return check


def host(text: str) -> str:
    if not text.strip() or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not a host name or address")
    return text


@attrs.frozen
class Setting:
    name: str  # the option's name in ServeOptions / argparse's dest
    variable: str
    parse: Callable[[str], Any]
    default: Any


SERVE: tuple[Setting, ...] = (
    Setting("site", "CTI_SITE", Path, None),
    Setting("data_dir", "CTI_DATA_DIR", Path, Path("data")),
    Setting("store", "CTI_STORE", store_location, "sqlite"),
    Setting("standby", "CTI_STANDBY", boolean, False),
    Setting("broker", "CTI_BROKER", choice("embedded", "external"), "external"),
    Setting("mqtt_url", "CTI_MQTT_URL", mqtt_url, "mqtt://127.0.0.1:1883"),
    Setting("broker_port", "CTI_BROKER_PORT", port, 1883),
    Setting("tls_port", "CTI_TLS_PORT", port, 8883),
    Setting("tls_cert", "CTI_TLS_CERT", Path, None),
    Setting("tls_key", "CTI_TLS_KEY", Path, None),
    Setting("tls_ca", "CTI_TLS_CA", Path, None),
    Setting("broker_files", "CTI_BROKER_FILES", Path, None),
    Setting("shared_broker", "CTI_SHARED_BROKER", boolean, False),
    Setting("csta_port", "CTI_CSTA_PORT", port, None),
    Setting("http_host", "CTI_HTTP_HOST", host, "127.0.0.1"),
    Setting("http_port", "CTI_HTTP_PORT", port, 9180),
    Setting("web_host", "CTI_WEB_HOST", host, "127.0.0.1"),
    Setting("web_port", "CTI_WEB_PORT", port, 8180),
    Setting("web_max_per_address", "CTI_WEB_MAX_PER_ADDRESS", count, 20),
    Setting("web_sign_in_timeout", "CTI_WEB_SIGN_IN_TIMEOUT", seconds, 10.0),
    Setting("web_trusted_proxy", "CTI_WEB_TRUSTED_PROXY", trusted_proxies, LOOPBACK),
    Setting("disk_low", "CTI_DISK_LOW", DiskThreshold.parse, DiskThreshold()),
    Setting("log_level", "CTI_LOG_LEVEL", choice(*LOG_LEVELS), "warning"),
    Setting("log_json", "CTI_LOG_JSON", boolean, False),
)


#: What the tools that open a node's log (`cti replay`, `archive`, `calls`, `users`,
#: `broker-config`) take from the environment, like `cti serve`.
TOOLS: tuple[Setting, ...] = tuple(s for s in SERVE if s.name == "store")


def resolve(
    given: Mapping[str, Any], environ: Mapping[str, str], settings: tuple[Setting, ...] = SERVE
) -> dict[str, Any]:
    """Each setting's value: ``given[name]`` unless None (the flag was not given), else the
    environment's, else the default. Raises EnvError for a variable that does not parse."""
    out: dict[str, Any] = {}
    for s in settings:
        value = given.get(s.name)
        if value is None:
            raw = environ.get(s.variable, "")
            if raw.strip():
                try:
                    value = s.parse(raw.strip())
                except ValueError as exc:
                    raise EnvError(f"{s.variable}: {exc}") from None
            else:
                value = s.default
        out[s.name] = value
    return out
