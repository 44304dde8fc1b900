"""The machine-readable contract: JSON Schema (2020-12) of every request, reply and document,
generated from the types that make them, and checked in as specs/api.schema.json.

Requests come from the command and query classes of the contexts (their attrs fields), results
from each service's ``RESULT`` type, events from the event classes, the device state and status
documents from their TypedDicts (cti.api.documents). A test compares the checked-in file with
this output and validates every JSON example in specs/ against it, so the docs cannot drift.

    python -m cti.api.schema > specs/api.schema.json     (or: make schema)
"""

from __future__ import annotations

import copy
import enum
import json
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from cti.api.chat import ChatMessageDoc, ChatReadDoc, OnlineDoc
from cti.api.documents import (
    TRACE_INTERNAL_KINDS,
    CallersDoc,
    ConferencesDoc,
    DeviceStateDoc,
    FavouritesDoc,
    LampDoc,
    PresenceDoc,
    ProfileDoc,
    StatusDoc,
    VoicemailDoc,
    camel,
)
from cti.api.journal import JournalCountsDoc
from cti.api.requests import MAX_INT, MAX_TEXT, REPLAY_LIMIT, SERVICES
from cti.calls.events import CallEvent
from cti.calls.values import ConnectionState
from cti.chat.model import REFUSALS as CHAT_REFUSALS
from cti.domain import CONTEXTS, EVENT_TYPES
from cti.kernel.messages import Event

Schema = dict[str, Any]
SCHEMA_ID = "https://cti.example/specs/api.schema.json"
# What a client may put in a text field: a non-empty string, or a device number typed as a
# JSON number (specs/mqtt.md).
REQUEST_TEXT: Schema = {
    "anyOf": [
        {"type": "string", "minLength": 1, "maxLength": MAX_TEXT},
        {"type": "integer", "minimum": 0, "maximum": 10**MAX_TEXT - 1},
    ]
}
# A longer text field (``metadata={"max_length": N}``: an e-mail address, a photo).
LONG_TEXT: Schema = {"type": "string", "minLength": 1}
# MQTT 3.1.1 clients put the reply address into the payload (specs/mqtt.md).
REPLY_ADDRESS: Schema = {
    "reply_to": {"type": "string", "minLength": 1, "description": "MQTT 3.1.1 reply topic"},
    "replyTo": {"type": "string", "minLength": 1, "description": "MQTT 3.1.1 reply topic"},
    "correlation": {"description": "MQTT 3.1.1: echoed in the reply"},
}


class Builder:
    """Turns Python types into JSON Schema, collecting named types under ``$defs``."""

    def __init__(self) -> None:
        self.defs: dict[str, Schema] = {}

    def ref(self, name: str, schema: Schema) -> Schema:
        # Definitions are named by class: two classes of one name (two contexts' result
        # types, say) would silently share the first one's schema.
        if self.defs.setdefault(name, schema) != schema:
            raise TypeError(f"two types are named {name!r} in the API: rename one")
        return {"$ref": f"#/$defs/{name}"}

    def of(self, tp: Any, *, request: bool = False, max_text: int = MAX_TEXT) -> Schema:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if tp is Any or tp is object:
            return {}
        if origin is typing.Annotated:  # Annotated[str, ("minLength", 1)]: a keyword added
            schema = self.of(args[0], request=request, max_text=max_text)
            for extra in tp.__metadata__:
                if isinstance(extra, tuple) and len(extra) == 2 and isinstance(extra[0], str):
                    schema = {**schema, extra[0]: extra[1]}
            return schema
        if tp is type(None):
            return {"type": "null"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            if request and max_text != MAX_TEXT:
                return {**LONG_TEXT, "maxLength": max_text}
            return REQUEST_TEXT if request else {"type": "string"}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self.ref(tp.__name__, {"type": "string", "enum": [m.value for m in tp]})
        if origin is typing.Literal:
            return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
        if origin in (types.UnionType, typing.Union):
            options = [self.of(a, request=request, max_text=max_text) for a in args]
            return {"anyOf": options}
        if origin in (list, tuple, Sequence) or origin is typing.get_origin(Sequence[int]):
            return {"type": "array", "items": self.of(args[0], request=request)}
        if origin in (dict, Mapping):
            return {"type": "object", "additionalProperties": self.of(args[1])}
        if typing.is_typeddict(tp):
            return self.ref(tp.__name__, self.typed_dict(tp))
        if isinstance(tp, type) and attrs.has(tp):
            return self.ref(tp.__name__, self.attrs_class(tp, request=request))
        raise TypeError(f"no JSON Schema for {tp!r}; extend cti.api.schema.Builder.of")

    def typed_dict(self, td: Any) -> Schema:
        # Read NotRequired from the hints themselves: with postponed annotations Python 3.11
        # does not see it when it builds __required_keys__.
        properties: Schema = {}
        required: list[str] = []
        for key, hint in typing.get_type_hints(td, include_extras=True).items():
            if typing.get_origin(hint) is typing.NotRequired:
                hint = typing.get_args(hint)[0]
            else:
                required.append(key)
            properties[key] = self.of(hint)
        schema: Schema = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        if td.__doc__ and not td.__doc__.startswith(td.__name__ + "("):
            schema["description"] = " ".join(td.__doc__.split())
        return schema

    def attrs_class(self, cls: type, *, request: bool) -> Schema:
        hints = typing.get_type_hints(cls)
        fields = attrs.fields(cls)
        schema: Schema = {
            "type": "object",
            "properties": {
                camel(f.name): self.of(
                    hints[f.name], request=request, max_text=f.metadata.get("max_length", MAX_TEXT)
                )
                for f in fields
            },
            "required": [camel(f.name) for f in fields if f.default is attrs.NOTHING],
            "additionalProperties": False,
        }
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
            schema["description"] = " ".join(cls.__doc__.split())
        return schema

    # -- the contract --------------------------------------------------------------------------
    def request(self, service: str, cls: type) -> Schema:
        schema = self.attrs_class(cls, request=True)
        schema["properties"].update(REPLY_ADDRESS)
        return schema

    def event(self, cls: type[Event]) -> Schema:
        hints = typing.get_type_hints(cls)
        properties: Schema = {
            "seq": {"type": "integer", "minimum": 1, "description": "the event's place in the log"},
            "ts": {"type": "string", "description": "ISO-8601 UTC with milliseconds"},
            "event": {"const": cls.KIND},
        }
        required = ["seq", "ts", "event"]
        for field in attrs.fields(cls):
            if field.name == "local":
                continue
            properties[camel(field.name)] = self.of(hints[field.name])
            required.append(camel(field.name))
        if issubclass(cls, CallEvent):
            connection = self.ref(
                "EventConnection",
                {
                    "type": "object",
                    "properties": {
                        "device": {"type": "string"},
                        "state": self.of(ConnectionState),
                    },
                    "required": ["device", "state"],
                    "additionalProperties": False,
                },
            )
            properties["connections"] = {
                "type": "array",
                "items": connection,
                "description": "every connection of the call after the event",
            }
            required.append("connections")
            # On a device's topic a call event also says whose view it is.
            properties["monitoredDevice"] = {
                "type": "string",
                "description": "on devices/{device}/events: the device whose topic it is",
            }
            properties["localConnectionInfo"] = {
                "$ref": "#/$defs/ConnectionState",
                "description": "on devices/{device}/events: that device's connection state",
            }
        schema: Schema = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
            schema["description"] = " ".join(cls.__doc__.split())
        return schema


def error_codes() -> list[str]:
    """Every code an error reply can carry: the refusal names of the contexts (the request
    parser's codes are among call control's)."""
    return sorted(set().union(*(ctx.refusals for ctx in CONTEXTS), CHAT_REFUSALS))


def contract() -> Schema:
    b = Builder()
    defs = b.defs
    error = b.ref(
        "ErrorReply",
        {
            "type": "object",
            "properties": {
                "ok": {"const": False},
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"enum": error_codes()},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                    "required": ["code", "message"],
                    "additionalProperties": False,
                },
                "correlation": REPLY_ADDRESS["correlation"],
            },
            "required": ["ok", "error"],
            "additionalProperties": False,
        },
    )
    for service, cls in sorted(SERVICES.items()):
        defs[f"request.{service}"] = b.request(service, cls)
        defs[f"reply.{service}"] = {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {
                        "ok": {"const": True},
                        "result": b.of(cls.RESULT),
                        "seq": {"type": "integer", "minimum": 0},
                        "published": {
                            "const": False,
                            "description": "none of the command's events is published "
                            "(all internal, or none): no event to wait for",
                        },
                        "correlation": REPLY_ADDRESS["correlation"],
                    },
                    "required": ["ok", "result", "seq"],
                    "additionalProperties": False,
                },
                error,
            ]
        }
    events = {kind: cls for kind, cls in sorted(EVENT_TYPES.items()) if not cls.INTERNAL}
    for kind, event_cls in events.items():
        defs[f"event.{kind}"] = b.event(event_cls)
    defs["event"] = {"oneOf": [{"$ref": f"#/$defs/event.{kind}"} for kind in events]}
    defs["document.deviceState"] = b.of(DeviceStateDoc)
    defs["document.status"] = b.of(StatusDoc)
    defs["document.lamp"] = b.of(LampDoc)
    defs["document.profile"] = b.of(ProfileDoc)
    defs["document.favourites"] = b.of(FavouritesDoc)
    defs["document.presence"] = b.of(PresenceDoc)
    defs["document.callers"] = b.of(CallersDoc)
    defs["document.journal"] = b.of(JournalCountsDoc)
    defs["document.conferences"] = b.of(ConferencesDoc)
    defs["document.online"] = b.of(OnlineDoc)
    defs["document.voicemail"] = b.of(VoicemailDoc)
    defs["chat.chatMessage"] = b.of(ChatMessageDoc)
    defs["chat.chatRead"] = b.of(ChatReadDoc)
    # replay's and trace's fields (cti/api/requests.py, parse_page): any other is refused.
    page_fields = {
        "fromSeq": {"type": "integer", "minimum": 0, "maximum": MAX_INT},
        "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_INT,
            "description": f"at most {REPLAY_LIMIT} are given",
        },
    }
    defs["request.replay"] = {
        "type": "object",
        "properties": {**page_fields, **REPLY_ADDRESS},
        "additionalProperties": False,
    }
    defs["request.trace"] = {
        "type": "object",
        "description": "administrators, monitors, integrators: one call's or one device's "
        "events from the log (the operator view); exactly one of call and device",
        "properties": {
            "call": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
            "device": {"type": "string", "minLength": 1, "maxLength": 64},
            **page_fields,
            **REPLY_ADDRESS,
        },
        "oneOf": [{"required": ["call"]}, {"required": ["device"]}],
        "additionalProperties": False,
    }
    defs["reply.replay"] = {
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "ok": {"const": True},
                    "result": {
                        "type": "object",
                        "properties": {
                            "events": {"type": "array", "items": {"$ref": "#/$defs/event"}},
                            "nextSeq": {"type": "integer"},
                            "lastSeq": {"type": "integer"},
                            "publishedSeq": {"type": "integer"},
                            "epoch": {"type": "string"},
                            "complete": {"type": "boolean"},
                        },
                        "required": [
                            "events",
                            "nextSeq",
                            "lastSeq",
                            "publishedSeq",
                            "epoch",
                            "complete",
                        ],
                        "additionalProperties": False,
                    },
                    "correlation": REPLY_ADDRESS["correlation"],
                },
                "required": ["ok", "result"],
                "additionalProperties": False,
            },
            error,
        ]
    }
    # trace also gives the switch's timers (INTERNAL, never on an event topic or in replay).
    for kind in sorted(TRACE_INTERNAL_KINDS):
        defs[f"traceEvent.{kind}"] = b.event(EVENT_TYPES[kind])
    traced = copy.deepcopy(defs["reply.replay"])
    traced["oneOf"][0]["properties"]["result"]["properties"]["events"]["items"] = {
        "oneOf": [
            {"$ref": "#/$defs/event"},
            *({"$ref": f"#/$defs/traceEvent.{kind}"} for kind in sorted(TRACE_INTERNAL_KINDS)),
        ]
    }
    defs["reply.trace"] = traced
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cti node API: requests, replies and documents (specs/mqtt.md)",
        "description": (
            "Generated by cti.api.schema from the types of the node; do not edit. "
            "request.<service> / reply.<service>: the payloads of cti/{node}/requests/<service>; "
            "event.<kind>: the documents of the event topics; document.*: retained documents."
        ),
        "$defs": dict(sorted(defs.items())),
    }


def dumps() -> str:
    return json.dumps(contract(), indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dumps())
