"""What a request answers: runs a parsed command or query and shapes the JSON reply.

Shared by the MQTT face and by in-process clients (phone_sim), so a reply looks the same
whichever way the request came in:
``{"ok": true, "result": {...}, "seq": N}`` or ``{"ok": false, "error": {"code", "message"}}``
(plus ``details`` when the refusal has them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cti.api.requests import Action
from cti.app.engine import Engine
from cti.app.node import Accepted
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal


def error(code: str, message: str, details: Mapping[str, object] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = dict(details)
    return {"ok": False, "error": body}


def refused(refusal: Refusal) -> dict[str, Any]:
    return error(refusal.name, refusal.message, refusal.details)


async def execute(engine: Engine, action: Action) -> dict[str, Any]:
    node = engine.node
    if isinstance(action, Query):
        try:
            result = node.query(action)
        except Refusal as refusal:
            return refused(refusal)
        return {"ok": True, "result": result, "seq": node.state.seq}
    outcome = await engine.execute(action)
    if isinstance(outcome, Accepted):
        last = outcome.events[-1].seq if outcome.events else node.state.seq
        return {"ok": True, "result": dict(outcome.result), "seq": last}
    return refused(outcome.error)
