"""Request payloads in, commands out: every check an untrusted client needs, before the
engine sees anything. Bad input raises :class:`BadRequest` with a CSTA error name where one
applies and a message that says exactly what is wrong."""

from __future__ import annotations

import functools
import json
import types
import typing
from enum import Enum
from typing import Any

import attrs
import orjson

from cti.domain import commands as cmd
from cti.mqtt.payloads import camel

MAX_PAYLOAD = 16 * 1024
QUERIES = ("snapshotDevice", "snapshotCall", "redialList")
CLIENT_SERVICES = {k: v for k, v in cmd.COMMAND_TYPES.items() if v is not cmd.FireTimer}
REPLY_KEYS = {"reply_to", "replyTo", "correlation"}


class BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@attrs.frozen
class Query:
    service: str
    device: str | None = None
    call: int | None = None


@attrs.frozen
class Request:
    action: cmd.Command | Query
    reply_to: str | None
    correlation: bytes | None


def parse_json(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise BadRequest(
            "invalidParameterValue",
            f"payload of {len(payload)} bytes exceeds the limit of {MAX_PAYLOAD}",
        )
    try:
        # orjson also refuses nesting deeper than 1024 levels instead of hitting recursion.
        doc = orjson.loads(payload) if payload.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise BadRequest("invalidParameterValue", f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("invalidParameterValue", "payload must be a JSON object")
    return doc


def reply_address(doc: dict[str, Any]) -> tuple[str | None, bytes | None]:
    """MQTT 3.1.1 clients put the reply address in the payload."""
    reply_to = doc.get("reply_to", doc.get("replyTo"))
    if reply_to is not None and (
        not isinstance(reply_to, str) or not reply_to or any(ch in reply_to for ch in "+#")
    ):
        reply_to = None
    corr = doc.get("correlation")
    correlation = json.dumps(corr).encode() if corr is not None else None
    return reply_to, correlation


def _check(name: str, value: Any, hint: Any) -> Any:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        hint = next(o for o in options if o is not type(None))
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in hint)
            raise BadRequest(
                "invalidParameterValue", f"{camel(name)} must be one of {allowed}"
            ) from None
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)  # a number typed as a JSON number is still that number
        ok = isinstance(value, str) and bool(value) and len(value) <= 64
    else:  # pragma: no cover - a command field of a type this table does not know
        raise TypeError(f"unsupported field type {hint!r}")
    if not ok:
        what = {bool: "true or false", int: "an integer", str: "a non-empty string"}[hint]
        raise BadRequest("invalidParameterValue", f"{camel(name)} must be {what}")
    return value


@functools.cache
def _schema(cls: type) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Field types, attrs fields and camelCase aliases of a command class (computed once)."""
    by_name = {f.name: f for f in attrs.fields(cls)}
    return typing.get_type_hints(cls), by_name, {camel(n): n for n in by_name}


def _fields(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    hints, by_name, aliases = _schema(cls)
    values: dict[str, Any] = {}
    for key, value in doc.items():
        if key in REPLY_KEYS:
            continue
        name = aliases.get(key, key)
        if name not in by_name:
            raise BadRequest("invalidParameterValue", f"unknown field {key!r}")
        values[name] = _check(name, value, hints[name])
    for name, field in by_name.items():
        if name not in values and field.default is attrs.NOTHING:
            raise BadRequest("invalidParameterValue", f"missing field {camel(name)!r}")
    return values


def parse_request(service: str, payload: bytes) -> Request:
    doc = parse_json(payload)
    reply_to, correlation = reply_address(doc)
    if service in QUERIES:
        cls: type = Query
        values = _fields(Query, {**doc, "service": service})
        if service in ("snapshotDevice", "redialList") and values.get("device") is None:
            raise BadRequest("invalidParameterValue", "missing field 'device'")
        if service == "snapshotCall" and values.get("call") is None:
            raise BadRequest("invalidParameterValue", "missing field 'call'")
        return Request(Query(**values), reply_to, correlation)
    cls = CLIENT_SERVICES.get(service)  # type: ignore[assignment]
    if cls is None:
        raise BadRequest("serviceNotSupported", f"unknown service {service!r}")
    return Request(cls(**_fields(cls, doc)), reply_to, correlation)
