"""Physical phones over MQTT: `phone-sim phones` hosts simulated phones whose hook, keypad
and function keys are topics a person, a test or a UI can press, and whose display, LEDs and
ringer are retained topics (specs/phone-sim.md).

    in   cti/{node}/phones/{n}/hook    "off" | "on"
         cti/{node}/phones/{n}/dial    digits
         cti/{node}/phones/{n}/key     a key name, e.g. "dss:331", "hold", "fwd 351"
    out  cti/{node}/phones/{n}/display {"lines": [line1, line2]}          retained
         cti/{node}/phones/{n}/lamps   {"dnd": "off", "dss:331": "flash"}  retained
         cti/{node}/phones/{n}/ringer  {"ringer": "ring"}                  retained
         cti/{node}/phones/{n}/feedback {"input": ..., "ok": false, "error": {...}}
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from rich.console import Console

from cti.mqtt.client import Endpoint
from phone_sim.link.base import NoStatus, Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator

INPUTS = ("hook", "dial", "key")


def topic(node: str, number: str, leaf: str) -> str:
    return f"cti/{node}/phones/{number}/{leaf}"


def outputs(
    sim: Simulator, number: str, *, own: bool = True, lamps: bool = True
) -> dict[str, dict[str, Any]]:
    """What a phone shows right now, by output topic leaf: its display and ringer (``own``),
    its keys' LEDs (``lamps``)."""
    out: dict[str, dict[str, Any]] = {}
    if own:
        out["display"] = {"lines": list(sim.display(number))}
        out["ringer"] = {"ringer": sim.phone(number).ringer}
    if lamps:
        out["lamps"] = {key: sim.lamp(number, key) for key in sim.keys(number)}
    return out


def action_for(leaf: str, payload: str) -> tuple[str, list[str]]:
    """The verb and arguments an input message means."""
    text = payload.strip()
    if leaf == "hook":
        if text not in ("on", "off"):
            raise Refusal("invalidParameterValue", 'hook takes "off" or "on"')
        return ("lifts" if text == "off" else "hangs-up"), []
    if leaf == "dial":
        if not text:
            raise Refusal("invalidParameterValue", "dial needs digits")
        return "dials", [text]
    words = text.split()
    if not words:
        raise Refusal("invalidParameterValue", "key needs a key name")
    return "presses", words


class PhonePanel:
    """Bridges the hosted phones' physical topics to the simulator."""

    def __init__(self, sim: Simulator, link: MqttLink, numbers: list[str]) -> None:
        self.sim, self.link, self.numbers = sim, link, numbers
        self._shown: dict[tuple[str, str], bytes] = {}
        self._connects = 0
        self._tasks: set[asyncio.Task[None]] = set()
        link.on_other = self._on_input
        sim.watchers.append(self.refresh)

    async def start(self) -> None:
        for leaf in INPUTS:
            await self.link.subscribe(topic(self.link.node, "+", leaf))
        self.refresh()

    def refresh(self, changed: set[str] | None = None) -> None:
        """Publish what changed. A phone's display and ringer change only with its own
        documents; its busy-lamp keys with any configured device's state."""
        if self._connects != self.link.connects:  # a new connection (maybe a new broker)
            self._connects, self._shown, changed = self.link.connects, {}, None
        every_lamp = changed is None or any(d in self.sim.kinds for d in changed)
        for number in self.numbers:
            own = changed is None or number in changed
            if not own and not every_lamp:
                continue
            for leaf, doc in outputs(self.sim, number, own=own, lamps=every_lamp).items():
                body = orjson.dumps(doc)
                # Remembered only once sent: what a disconnect swallowed goes out next time.
                if self._shown.get((number, leaf)) != body and self.link.publish(
                    topic(self.link.node, number, leaf), body, retain=True
                ):
                    self._shown[(number, leaf)] = body

    def _keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_input(self, name: str, payload: bytes) -> None:
        parts = name.split("/")
        if len(parts) != 5 or parts[4] not in INPUTS or parts[3] not in self.numbers:
            return
        self._keep(asyncio.ensure_future(self._press(parts[3], parts[4], payload)))

    async def _press(self, number: str, leaf: str, payload: bytes) -> None:
        text = payload.decode(errors="replace")
        feedback: dict[str, Any] = {"input": leaf, "value": text, "ok": True}
        try:
            verb, args = action_for(leaf, text)
            await self.sim.act(number, verb, *args)
        except Refusal as exc:
            feedback.update(ok=False, error={"code": exc.code, "message": exc.message})
        except (ConnectionError, TimeoutError) as exc:
            feedback.update(ok=False, error={"code": "generic", "message": str(exc)})
        self.link.publish(topic(self.link.node, number, "feedback"), orjson.dumps(feedback))


async def run_phones(endpoint: Endpoint, node: str, numbers: list[str], console: Console) -> int:
    link = MqttLink(endpoint, node, name="phones")
    sim = Simulator(link)
    await sim.start()
    if not link.node_online:  # no node there: "not configured" would mislead
        await sim.close()
        raise NoStatus({node: link.node_state})
    hosted = numbers or sorted(n for n, k in sim.kinds.items() if k.endswith("_phone"))
    unknown = [n for n in hosted if n not in sim.kinds]
    if unknown or not hosted:
        why = (
            f"not configured on {node}: {', '.join(unknown)}"
            if unknown
            else (f"node {node} has no phones to host (name them: phones 330 331)")
        )
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]phone-sim: {why}[/]")
        await sim.close()
        return 2
    panel = PhonePanel(sim, link, hosted)
    try:
        await panel.start()  # the inputs' subscriptions: SubscriptionRefused if refused
        who = f' -u {endpoint.username} -P "$CTI_PASSWORD"' if endpoint.username else ""
        who = f" -h {endpoint.host} -p {endpoint.port}{who}"
        console.print(
            f"hosting {len(hosted)} phones of {node}: {' '.join(hosted)}\n"
            f"  press   mosquitto_pub{who} -t cti/{node}/phones/{hosted[0]}/key -m dss:331\n"
            f"  watch   mosquitto_sub{who} -v -t 'cti/{node}/phones/#'\n"
            "Ctrl-C stops.",
            soft_wrap=True,  # copyable commands, not wrapped
        )
        await asyncio.Event().wait()
    finally:
        await sim.close()
    return 0
