"""The success reply of a command, the same whichever module runs it (cti.api.execute, the
voicemail and journal requests): ``seq`` is the last event it produced (the log position
when it produced none); ``"published": false`` is added when none of its events goes out on
an event topic (they are all INTERNAL, or there are none), so a client waiting for the
events up to ``seq`` (phone-sim) knows there is nothing to wait for (specs/mqtt.md)."""

from __future__ import annotations

from typing import Any

from cti.app.node import Accepted


def accepted(outcome: Accepted, position: int) -> dict[str, Any]:
    events = outcome.events
    reply: dict[str, Any] = {
        "ok": True,
        "result": dict(outcome.result),
        "seq": events[-1].seq if events else position,
    }
    if all(x.event.INTERNAL for x in events):
        reply["published"] = False
    return reply
