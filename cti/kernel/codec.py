"""Serialization of events (JSON) for the log, with upcasting of old versions.

cattrs generates the (un)structuring code for the attrs event classes; a context may register
hooks for compact forms of its values. Decoding refuses fields the class does not have, so a
renamed field without an upcaster fails loudly instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cattrs
import orjson

from cti.kernel.messages import Event
from cti.kernel.versions import UnknownVersion, Upcaster, UpcasterKey, Upcasters

ConverterHook = Callable[[cattrs.Converter], None]


class EventCodec:
    def __init__(
        self,
        event_types: Iterable[type[Event]],
        upcasters: Mapping[UpcasterKey, Upcaster] | None = None,
        hooks: Iterable[ConverterHook] = (),
    ) -> None:
        types = list(event_types)
        self.types: dict[str, type[Event]] = {}
        for cls in types:
            if cls.KIND in self.types:
                raise ValueError(f"event kind {cls.KIND!r} is defined twice")
            self.types[cls.KIND] = cls
        self.upcasters = Upcasters(types, upcasters or {})
        self.converter = cattrs.Converter(forbid_extra_keys=True)
        for hook in hooks:
            hook(self.converter)

    def unstructure(self, event: Event) -> dict[str, Any]:
        data: dict[str, Any] = self.converter.unstructure(event)
        return data

    def encode(self, event: Event) -> bytes:
        return orjson.dumps(self.converter.unstructure(event))

    def decode(self, kind: str, version: int, data: bytes) -> Event:
        cls = self.types.get(kind)
        if cls is None:
            raise UnknownVersion(f"unknown event kind {kind!r} in the log")
        fields = orjson.loads(data)
        if version != cls.VERSION:
            fields = self.upcasters.upcast(kind, version, fields)
        try:
            event: Event = self.converter.structure(fields, cls)
        except (cattrs.BaseValidationError, KeyError, TypeError, ValueError) as exc:
            raise UnknownVersion(
                f"{kind} v{version} does not match the {cls.__name__} fields: {exc}"
            ) from exc
        return event
