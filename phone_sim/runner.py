"""`phone-sim run`: scenario files against a live node over MQTT, with a line per step."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from cti.mqtt.client import Endpoint, SubscriptionRefused
from phone_sim.link.base import Interrupted, Unreachable
from phone_sim.link.mqtt import MqttLink
from phone_sim.scenario import ScenarioError, ScenarioFailed, load, run
from phone_sim.sim import Simulator


def _error(text: str) -> None:
    """One line on stderr, not wrapped (phone-sim's errors, phone_sim/cli.py)."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"[red]phone-sim: {escape(text)}[/]"
    )


async def run_files(endpoint: Endpoint, node: str, files: list[Path], console: Console) -> int:
    """0 when every scenario passed, 1 when one failed, 2 when a file is not understood."""
    try:
        scenarios = [load(f) for f in files]
    except ScenarioError as exc:
        _error(str(exc))
        return 2
    except OSError as exc:
        _error(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))
        return 2
    failed = 0
    for ran, scenario in enumerate(scenarios):
        sim = Simulator(MqttLink(endpoint, node, name="run"))
        try:
            await sim.start()
        except (Unreachable, SubscriptionRefused) as exc:
            if not ran:  # at the start: cannot reach, or the wrong node (phone_sim/cli.py)
                raise
            # After the first: the broker went away, or refused what it granted before (a
            # NATS cluster electing leaders), during the run: broken off, not a wrong --node.
            doing = f"connecting for {scenario.name} after {ran} scenario(s)"
            raise Interrupted(doing, exc.cause if isinstance(exc, Unreachable) else exc) from exc
        reqs = ", ".join(scenario.requirements)
        console.print(f"[bold]{scenario.name}[/] [dim]{reqs} ({scenario.source})[/]")
        try:
            await run(sim, scenario, on_step=lambda i, text: console.print(f"  [green]✓[/] {text}"))
        except ScenarioFailed as exc:
            failed += 1
            console.print(f"  [red]✗ {exc.text}[/]\n    {exc.detail}")
        finally:
            await sim.close()
    verdict = "[green]passed[/]" if not failed else f"[red]{failed} failed[/]"
    console.print(f"{len(scenarios)} scenario(s): {verdict}")
    return 1 if failed else 0
