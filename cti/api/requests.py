"""Requests in, commands and queries out: every check an untrusted client needs, before the
engine sees anything. Bad input raises :class:`BadRequest` with a refusal name (the CSTA error
name where one applies) and a message that says exactly what is wrong.

Which services exist is not listed here: every context registers its commands and queries
(cti.domain), and their attrs fields are the request fields (camelCase or snake_case). A text
field may be longer than MAX_TEXT if its attrs field says so (``metadata={"max_length": N}``),
and a request class may take a larger payload than MAX_PAYLOAD (``MAX_PAYLOAD``, setProfile's
photo): faces size the payload with :func:`payload_limit`.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs
import orjson

from cti.api.chat import REQUESTS as CHAT_REQUESTS
from cti.api.chat import ChatRequest
from cti.api.directory import ImportContactsRequest, UploadContactsPartRequest
from cti.api.documents import camel
from cti.api.journal import REQUESTS as JOURNAL_REQUESTS
from cti.api.journal import JournalRequest
from cti.api.passwords import REQUESTS as PASSWORD_REQUESTS
from cti.api.passwords import PasswordRequest
from cti.api.profile import SetProfileRequest
from cti.api.voicemail import REQUESTS as VOICEMAIL_REQUESTS
from cti.api.voicemail import VoicemailRequest
from cti.directory.queries import SearchDirectory
from cti.domain import COMMAND_TYPES, QUERY_TYPES
from cti.kernel.messages import Command, Query

MAX_PAYLOAD = 16 * 1024
MAX_TEXT = 64  # longest string field (numbers, names of things)
MAX_ITEMS = 32  # longest list field
# Integers a JSON number carries exactly everywhere (RFC 8259 section 6); orjson reads a
# longer literal as a float, so a bigger value would otherwise look like "not an integer".
MAX_INT = 2**53 - 1
Action = (
    Command
    | Query
    | PasswordRequest
    | SetProfileRequest
    | ImportContactsRequest
    | UploadContactsPartRequest
    | JournalRequest
    | VoicemailRequest
    | ChatRequest
)
# What a client may request: every query, every command but the node's own (timers, the ones
# that carry password hashes or a checked photo), and the services that take a password
# (hashed on arrival) or a photo (checked and scaled on arrival).
SERVICES: dict[
    str,
    type[Command]
    | type[Query]
    | type[PasswordRequest]
    | type[SetProfileRequest]
    | type[ImportContactsRequest]
    | type[UploadContactsPartRequest]
    | type[VoicemailRequest],
] = {
    **{name: cls for name, cls in COMMAND_TYPES.items() if not cls.INTERNAL},
    **QUERY_TYPES,
    **{cls.SERVICE: cls for cls in PASSWORD_REQUESTS},
    SetProfileRequest.SERVICE: SetProfileRequest,
    # Read from a file in a worker thread, and answered by the search index (cti.api.directory).
    ImportContactsRequest.SERVICE: ImportContactsRequest,
    UploadContactsPartRequest.SERVICE: UploadContactsPartRequest,
    SearchDirectory.SERVICE: SearchDirectory,
    **{cls.SERVICE: cls for cls in JOURNAL_REQUESTS},  # answered by the journal read model
    # Audio stored, PINs checked where they arrive (cti.api.voicemail).
    **{cls.SERVICE: cls for cls in VOICEMAIL_REQUESTS},
    **{cls.SERVICE: cls for cls in CHAT_REQUESTS},  # answered by the chat's own store
}


class BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def payload_limit(service: str) -> int:
    """The largest payload a request of ``service`` may have, in bytes."""
    limit: int = getattr(SERVICES.get(service), "MAX_PAYLOAD", MAX_PAYLOAD)
    return limit


def largest_payload() -> int:
    """The largest payload any request may have: what a face lets through at all."""
    return max([MAX_PAYLOAD, *(payload_limit(service) for service in SERVICES)])


def parse_json(payload: bytes, limit: int = MAX_PAYLOAD) -> dict[str, Any]:
    """A request payload as a JSON object (at most ``limit`` bytes)."""
    if len(payload) > limit:
        raise BadRequest(
            "invalidParameterValue",
            f"payload of {len(payload)} bytes exceeds the limit of {limit}",
        )
    if not payload.strip():  # not "{}": an empty message is a mistake (or a cleared retain)
        raise BadRequest(
            "invalidParameterValue", "payload is empty: send a JSON object ({} for no fields)"
        )
    try:
        # orjson also refuses nesting deeper than 1024 levels instead of hitting recursion.
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("invalidParameterValue", f"payload is not UTF-8 JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadRequest("invalidParameterValue", "payload must be a JSON object")
    return doc


@functools.cache
def _shape(hint: Any) -> tuple[bool, Any, Any, bool]:
    """What a field's type hint asks for, worked out once per hint (requests check every
    field): (None allowed, the type without None, the item type of a list or None, an enum)."""
    nullable = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        options = typing.get_args(hint)
        nullable = type(None) in options
        hint = next(o for o in options if o is not type(None))
    item = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
    return nullable, hint, item, isinstance(hint, type) and issubclass(hint, Enum)


def _check(name: str, value: Any, hint: Any, max_text: int = MAX_TEXT) -> Any:
    nullable, hint, item, enum = _shape(hint)
    if nullable and value is None:
        return None
    if item is not None:  # a list of values of one type
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            raise BadRequest(
                "invalidParameterValue", f"{camel(name)} must be a list of at most {MAX_ITEMS}"
            )
        return tuple(_check(name, v, item) for v in value)
    if enum:
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
        _check_range(name, value)
    elif hint is str:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)  # a number typed as a JSON number is still that number
        ok = isinstance(value, str) and bool(value) and len(value) <= max_text
    else:  # pragma: no cover - a request field of a type this table does not know
        raise TypeError(f"unsupported field type {hint!r}")
    if not ok:
        if isinstance(value, str) and len(value) > max_text:
            raise BadRequest(
                "invalidParameterValue", f"{camel(name)} must be at most {max_text} characters"
            )
        what = {bool: "true or false", int: "an integer", str: "a non-empty string"}[hint]
        raise BadRequest("invalidParameterValue", f"{camel(name)} must be {what}")
    return value


def _check_range(name: str, value: Any) -> None:
    """An integer (or a whole float: orjson reads a longer literal so) beyond what JSON
    carries exactly is refused as out of range, not as "not an integer"."""
    whole = (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )
    if whole and abs(value) > MAX_INT:
        raise BadRequest(
            "invalidParameterValue",
            f"{camel(name)} is out of range: an integer from {-MAX_INT} to {MAX_INT}",
        )


def unknown_field(key: str) -> BadRequest:
    return BadRequest("invalidParameterValue", f"unknown field {key!r}")


@functools.cache
def fields_of(cls: type) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """Field types, attrs fields and camelCase aliases of a request class (computed once)."""
    by_name = {f.name: f for f in attrs.fields(cls)}
    return typing.get_type_hints(cls), by_name, {camel(n): n for n in by_name}


def _fields(cls: type, doc: Mapping[str, Any]) -> dict[str, Any]:
    hints, by_name, aliases = fields_of(cls)
    values: dict[str, Any] = {}
    for key, value in doc.items():
        name = aliases.get(key, key)
        if name not in by_name:
            raise unknown_field(key)
        max_text = by_name[name].metadata.get("max_length", MAX_TEXT)
        values[name] = _check(name, value, hints[name], max_text)
    for name, field in by_name.items():
        if name not in values and field.default is attrs.NOTHING:
            raise BadRequest("invalidParameterValue", f"missing field {camel(name)!r}")
    return values


def parse_action(service: str, doc: Mapping[str, Any]) -> Action:
    """The command or query ``service`` with the fields of ``doc``."""
    cls = SERVICES.get(service)
    if cls is None:
        raise BadRequest("serviceNotSupported", f"unknown service {service!r}")
    action: Action = cls(**_fields(cls, doc))
    return action


def parse_request(service: str, payload: bytes) -> Action:
    """A request as it arrives over a wire: JSON bytes."""
    return parse_action(service, parse_json(payload, payload_limit(service)))


# -- replay and trace (answered from the log by the MQTT face, cti/mqtt/face/service.py) ----
REPLAY_LIMIT = 1000  # events a replay or trace page holds at most
PAGE_SERVICES: dict[str, frozenset[str]] = {  # each one's fields (the reply address aside)
    "replay": frozenset({"fromSeq", "from_seq", "limit"}),
    "trace": frozenset({"fromSeq", "from_seq", "limit", "call", "device"}),
}


@attrs.frozen
class PageRequest:
    """A replay's or trace's fields, checked: ``limit`` already at most REPLAY_LIMIT; a
    trace has exactly one of ``call`` and ``device``."""

    from_seq: int = 1
    limit: int = REPLAY_LIMIT
    call: int | None = None
    device: str | None = None


def _seq_field(name: str, value: Any) -> int:
    _check_range(name, value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadRequest("invalidParameterValue", f"{name} must be a non-negative integer")
    return value


def parse_page(service: str, doc: Mapping[str, Any]) -> PageRequest:
    """The fields of a ``replay`` or ``trace`` request, as strict as any other service's:
    an unknown field (a typo like ``fromseq`` would otherwise replay from seq 1) and an
    integer beyond what JSON carries exactly are refused with the same words."""
    known = PAGE_SERVICES[service]
    for key in doc:
        if key not in known:
            raise unknown_field(key)
    start = _seq_field("fromSeq", doc.get("fromSeq", doc.get("from_seq", 1)))
    limit = _seq_field("limit", doc.get("limit", REPLAY_LIMIT))
    if limit == 0:  # a client asking again from nextSeq until complete would never finish
        raise BadRequest("invalidParameterValue", "limit must be at least 1")
    page = PageRequest(start, min(limit, REPLAY_LIMIT))
    if service == "replay":
        return page
    call, device = doc.get("call"), doc.get("device")
    if (call is None) == (device is None):
        raise BadRequest("invalidParameterValue", "give either call or device")
    if call is not None:
        _check_range("call", call)
        if not isinstance(call, int) or isinstance(call, bool) or call <= 0:
            raise BadRequest("invalidParameterValue", "call must be a positive integer")
        return attrs.evolve(page, call=call)
    if not isinstance(device, str) or not 0 < len(device) <= 64:
        raise BadRequest("invalidParameterValue", "device must be a device number")
    return attrs.evolve(page, device=device)
