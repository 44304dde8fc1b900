"""`phone-sim console 330`: one phone in the terminal. The display, ringer, hook and LEDs
redraw as the node reports changes; typed lines are what the person does.

    lift | hangup | dial 331 | press dss:331 | answer | hold | consult 332 | transfer ...
(any verb of the scenario language without the phone number; `help` lists every command,
from the tables parse_line reads: ALIASES, VERBS, OWN)."""

from __future__ import annotations

import asyncio
import sys

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cti.mqtt.client import Endpoint
from phone_sim.link.base import Interrupted, NoStatus, Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.model.actions import VERBS
from phone_sim.scenario.parse import PHRASES, step_words
from phone_sim.sim import Simulator

LED_STYLE = {"off": "dim", "on": "bold green", "flash": "bold red blink", "wink": "yellow blink"}
#: The console's short words for verbs of the scenario language (VERBS); the verbs work too.
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


QUIT = ("quit", "exit")
HELP = "help"
OWN = (HELP, *QUIT)  # the console's own commands, not actions of the phone


def commands() -> list[str]:
    """Every command the console accepts, for `help`: per verb of VERBS (the table
    parse_line checks) its short words and the verb itself as a scenario writes it
    (`hangs up`), then the console's own (OWN)."""
    spelled = {token: phrase for phrase, token in PHRASES}
    listed = [
        "/".join([*(w for w, v in ALIASES.items() if v == verb), spelled.get(verb, verb)])
        for verb in VERBS
    ]
    return [*listed, HELP, "/".join(QUIT)]


def help_text() -> str:
    return "commands: " + ", ".join(commands())


def parse_line(line: str) -> tuple[str, list[str]] | None:
    """A typed line as (verb, args); None for an empty line. Split as a scenario's step is:
    `hangs up`, `keys pin 123456`, `presence meeting "Board room"`."""
    words = step_words(line.strip())
    if not words:
        return None
    verb = ALIASES.get(words[0], words[0])
    if verb not in VERBS:
        raise Refusal("invalidParameterValue", f"unknown command {words[0]!r} (type help)")
    return verb, words[1:]


async def command(sim: Simulator, number: str, line: str) -> str | None:
    """Do a typed line at phone ``number``: the note to show under the phone, None to quit.
    A lost connection or no reply raises Interrupted, saying which line."""
    typed = line.strip()
    if typed in QUIT:
        return None
    if typed == HELP:
        return help_text()
    try:
        parsed = parse_line(typed)
        if parsed is None:
            return ""
        await sim.act(number, parsed[0], *parsed[1])
    except Refusal as exc:
        return f"refused: {exc}"
    except (ConnectionError, TimeoutError) as exc:
        raise Interrupted(f"{number} did '{typed}' in the console", exc) from exc
    return f"ok: {typed}"


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
    link = MqttLink(endpoint, node, name=f"console-{number}")
    sim = Simulator(link)
    await sim.start()
    if not link.node_online:  # no node there: "not configured" would mislead
        await sim.close()
        raise NoStatus({node: link.node_state})
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
            said = await command(sim, number, line) if line else None
            if said is None:
                break
            note = said or note  # an empty line leaves the note
            live.update(render(sim, number, note), refresh=True)
    await sim.close()
    return 0
