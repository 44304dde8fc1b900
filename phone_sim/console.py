"""`phone-sim console 330`: one phone in the terminal. The display, ringer, hook and LEDs
redraw as the node reports changes; typed lines are what the person does.

    lift | hangup | dial 331 | press dss:331 | answer | hold | consult 332 | transfer ...
(any verb of the scenario language without the phone number; `help` lists them)."""

from __future__ import annotations

import asyncio
import sys

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cti.mqtt.client import Endpoint
from phone_sim.link.base import Interrupted, Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.model.actions import VERBS
from phone_sim.sim import Simulator

LED_STYLE = {"off": "dim", "on": "bold green", "flash": "bold red blink", "wink": "yellow blink"}
ALIASES = {
    "lift": "lifts",
    "hangup": "hangs-up",
    "hang": "hangs-up",
    "dial": "dials",
    "press": "presses",
    "answer": "answers",
    "call": "calls",
    "hold": "holds",
    "retrieve": "retrieves",
    "consult": "consults",
    "alternate": "alternates",
    "reconnect": "reconnects",
    "transfer": "transfers",
    "conference": "conferences",
    "deflect": "deflects",
    "pickup": "picks-up",
    "forward": "forwards",
    "clear": "clears",
}


def parse_line(line: str) -> tuple[str, list[str]] | None:
    """A typed line as (verb, args); None for an empty line."""
    words = line.split()
    if not words:
        return None
    verb = ALIASES.get(words[0], words[0])
    if verb not in VERBS:
        raise Refusal("invalidParameterValue", f"unknown command {words[0]!r} (type help)")
    return verb, words[1:]


def render(sim: Simulator, number: str, note: str = "") -> Panel:
    phone = sim.phone(number)
    line1, line2 = sim.display(number)
    screen = Panel(Text(f"{line1:<24}\n{line2:<24}", style="bold"), width=30, title="display")
    state = Text(
        f"hook {'off' if phone.off_hook else 'on'}"
        f"{' (speaker)' if phone.speaker else ''}   ringer {phone.ringer}   "
        f"status {phone.status()}"
    )
    keys = Table.grid(padding=(0, 2))
    keys.add_column()
    keys.add_column()
    for key in sim.keys(number):
        led = sim.lamp(number, key)
        name = sim.directory.get(key[4:], "") if key.startswith("dss:") else ""
        keys.add_row(Text("●", style=LED_STYLE[led]), f"{key} {name}".strip())
    parts: list[RenderableType] = [screen, state, keys]
    if note:
        parts.append(Text(note, style="italic"))
    title = f"{number} {phone.name} ({phone.kind})"
    return Panel(Group(*parts), title=title, subtitle="type help, quit to leave")


async def run_console(endpoint: Endpoint, node: str, number: str, console: Console) -> int:
    sim = Simulator(MqttLink(endpoint, node, name=f"console-{number}"))
    await sim.start()
    if number not in sim.kinds and not number.startswith("+"):
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]phone-sim: {number} is not configured on {node}[/]"
        )
        await sim.close()
        return 2
    note = "ready"
    loop = asyncio.get_running_loop()
    with Live(render(sim, number, note), console=console, auto_refresh=False) as live:
        sim.watchers.append(lambda _: live.update(render(sim, number, note), refresh=True))
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() in ("quit", "exit"):
                break
            if line.strip() == "help":
                note = "commands: " + ", ".join(sorted(ALIASES)) + " (or the verbs of specs)"
            else:
                try:
                    parsed = parse_line(line)
                    if parsed is not None:
                        await sim.act(number, parsed[0], *parsed[1])
                        note = f"ok: {line.strip()}"
                except Refusal as exc:
                    note = f"refused: {exc}"
                except (ConnectionError, TimeoutError) as exc:
                    raise Interrupted(f"{number} did '{line.strip()}' in the console", exc) from exc
            live.update(render(sim, number, note), refresh=True)
    await sim.close()
    return 0
