"""What a request answers: runs a parsed request on the engine and shapes the JSON reply.

Shared by the MQTT face and by in-process clients (phone_sim), so a reply looks the same
whichever way the request came in."""

from __future__ import annotations

from typing import Any

from cti.app.engine import Engine
from cti.app.node import Accepted
from cti.domain import commands as cmd
from cti.domain.errors import CstaError
from cti.mqtt.requests import Query


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


async def execute(engine: Engine, action: cmd.Command | Query) -> dict[str, Any]:
    node = engine.node
    if isinstance(action, Query):
        try:
            if action.service == "snapshotDevice":
                assert action.device is not None
                result: Any = node.snapshot_device(action.device)
            elif action.service == "redialList":
                assert action.device is not None
                result = {"numbers": node.redial_list(action.device)}
            else:
                assert action.call is not None
                result = node.snapshot_call(action.call)
        except CstaError as err:
            return error(err.name, err.message)
        return {"ok": True, "result": result, "seq": node.state.seq}
    outcome = await engine.execute(action)
    if isinstance(outcome, Accepted):
        last = outcome.events[-1].seq if outcome.events else node.state.seq
        return {"ok": True, "result": dict(outcome.result), "seq": last}
    return error(outcome.error.name, outcome.error.message)
