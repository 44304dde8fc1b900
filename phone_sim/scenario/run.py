"""Runs a scenario step by step on a :class:`Simulator`; the first step that does not hold
stops the run with :class:`ScenarioFailed` saying what was expected and what was there."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from cti.calls.state import REDIAL_SIZE
from phone_sim.link.base import Interrupted, Refusal
from phone_sim.model.phone import PHONE_KINDS
from phone_sim.scenario.parse import Action, Advance, Expect, Scenario, Step
from phone_sim.sim import Simulator

Advancer = Callable[[float], Awaitable[None]]
StepDone = Callable[[int, str], None]


class ScenarioFailed(AssertionError):
    def __init__(self, scenario: Scenario, index: int, text: str, detail: str) -> None:
        super().__init__(f"{scenario.name}: step {index} '{text}': {detail}")
        self.index, self.text, self.detail = index, text, detail


async def real_time(seconds: float) -> None:
    """Against a live server time passes for real."""
    await asyncio.sleep(seconds)


async def run(
    sim: Simulator,
    scenario: Scenario,
    *,
    advance: Advancer = real_time,
    on_step: StepDone | None = None,
) -> None:
    where = scenario.name + (f" ({scenario.source})" if scenario.source else "")
    # A refusal in the set-up is the scenario's failure; a lost connection or no reply is the
    # link's, as in a step: the run is broken off, saying what was going on.
    try:
        await reset(sim, scenario.devices)
        for number, behaviour in scenario.parties.items():
            sim.set_behaviour(number, behaviour)
            if behaviour.busy:
                await sim.occupy(number)
    except Refusal as exc:
        raise ScenarioFailed(scenario, 0, "(setting up the devices)", str(exc)) from None
    except (ConnectionError, TimeoutError) as exc:
        raise Interrupted(f"setting up the devices of {where}", exc) from exc
    cursors: dict[str, int] = {d: len(sim.phone(d).seen) for d in scenario.devices}
    try:
        # CALL-02: a node keeps every user's redial list and no service clears it; what the
        # scenario's steps put on it is checked in front of what was there before.
        earlier = {d: await sim.redial_list(d) for d in redial_checked(scenario)}
    except Refusal as exc:
        raise ScenarioFailed(scenario, 0, "(reading the redial lists)", str(exc)) from None
    except (ConnectionError, TimeoutError) as exc:
        raise Interrupted(f"reading the redial lists of {where}", exc) from exc
    try:
        for index, (text, step) in enumerate(scenario.steps, 1):
            try:
                await _step(sim, step, advance, cursors, earlier)
            except _StepFailed as exc:
                raise ScenarioFailed(scenario, index, text, exc.detail) from None
            except Refusal as exc:
                raise ScenarioFailed(scenario, index, text, f"refused: {exc}") from None
            except (ConnectionError, TimeoutError) as exc:  # the link's, not the scenario's
                raise Interrupted(f"step {index} '{text}' of {where}", exc) from exc
            if on_step is not None:
                on_step(index, text)
    finally:
        for number, behaviour in scenario.parties.items():
            sim.behaviours.pop(number, None)
            if behaviour.busy and sim.phone(number).off_hook:  # free the line we occupied
                with contextlib.suppress(Refusal, ConnectionError, TimeoutError):
                    await sim.act(number, "hangs-up")


def redial_checked(scenario: Scenario) -> list[str]:
    """The devices whose redial list an ``expect … redial`` step checks."""
    return sorted(
        {s.device for _, s in scenario.steps if isinstance(s, Expect) and s.check == "redial"}
    )


def expected_redial(listed: tuple[str, ...], earlier: list[str]) -> list[str]:
    """CALL-02: the list after the scenario dialled ``listed`` (newest first) on top of what
    the user had dialled before it: newest first, each number once, at most 10."""
    return [*listed, *(n for n in earlier if n not in listed)][:REDIAL_SIZE]


async def reset(sim: Simulator, devices: set[str]) -> None:
    """Start from idle phones, whatever an earlier run on a live node left behind: calls
    cleared, do-not-disturb and forwarding off, the users in the office."""
    for number in sorted(devices):
        phone = sim.phone(number)
        if phone.external:
            await sim.learn(number)  # trunk parties have no state topic to learn calls from
        for call in list(phone.legs):
            try:
                await sim.request("clearConnection", call=call, device=number)
            except Refusal:
                phone.legs.pop(call, None)
        if phone.dnd:
            await sim.request("setDoNotDisturb", device=number, on=False)
        for fwd in list(phone.forwarding):
            await sim.request("setForwarding", device=number, forwardingType=fwd["type"], on=False)
        if phone.presence != "office" and phone.kind in PHONE_KINDS:
            await sim.request("setPresence", user=number, status="office")  # PRES-01
        phone.handset = False


class _StepFailed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _fail(detail: str) -> _StepFailed:
    return _StepFailed(detail)


async def _step(
    sim: Simulator,
    step: Step,
    advance: Advancer,
    cursors: dict[str, int],
    earlier: dict[str, list[str]],
) -> None:
    if isinstance(step, Advance):
        await advance(step.seconds)
    elif isinstance(step, Action):
        try:
            await sim.act(step.device, step.verb, *step.args)
        except Refusal as exc:
            if step.fails_with is None:
                raise
            if exc.code != step.fails_with:
                raise _fail(f"refused with {exc.code}, expected {step.fails_with}") from None
            return
        if step.fails_with is not None:
            raise _fail(f"succeeded, expected it to fail with {step.fails_with}")
    else:
        await _expect(sim, step, cursors, earlier)


def observe(sim: Simulator, step: Expect, cursors: dict[str, int]) -> tuple[bool, str]:
    """(holds, what is there now) for an expectation."""
    phone = sim.phone(step.device)
    check, args = step.check, step.args
    if check == "display":
        lines = sim.display(step.device)
        return any(args[0] in line for line in lines), " | ".join(lines)
    if check == "lamp":
        state = sim.lamp(step.device, args[0])
        return state == args[1], state
    if check == "ringer":
        want = args[0]
        return (phone.ringer != "off" if want == "on" else phone.ringer == want), phone.ringer
    if check == "speaker":
        return phone.speaker == (args[0] == "on"), "on" if phone.speaker else "off"
    if check == "calls":
        return len(phone.legs) == int(args[0]), str(len(phone.legs))
    if check == "talking-to":
        leg = phone.active
        talking = leg is not None and leg.state == "connected" and leg.answered
        peer = phone.peer_of(leg)[0] if leg is not None and talking else ""
        return peer == args[0], peer or "no active call"
    if check == "allows":  # CALL-12: services offered on the active (or "on held") call
        on_held = args[-2:] == ("on", "held")
        leg = phone.held if on_held else phone.active
        wanted = set(args[:-2] if on_held else args)
        offered = set(phone.allowed.get(leg.call, [])) if leg is not None else set()
        return wanted <= offered, ", ".join(sorted(offered)) or "nothing"
    if check == "saw":
        start = cursors.get(step.device, 0)
        got = phone.seen[start:]
        return list(args) == got, ", ".join(got) or "nothing"
    if check == "ringing":
        return phone.ringer != "off", phone.ringer
    if check == "presence":  # PRES-01: the user's presence as the node shows it
        return phone.shown_presence == args[0], phone.shown_presence
    if check == "message-waiting":  # VM-02: the lamp
        lamp = "on" if phone.message_waiting else "off"
        return lamp == args[0], lamp
    if check == "new-messages":  # VM-02: the badge
        return phone.new_messages == int(args[0]), str(phone.new_messages)
    if check == "heard":  # VM-04: recordings played to the phone, exactly the stored bytes
        return len(phone.heard) == int(args[0]), str(len(phone.heard))
    if check in ("off-hook", "on-hook"):
        hook = "off-hook" if phone.off_hook else "on-hook"
        return hook == check, hook
    status = phone.status()
    return status == check, status


async def _expect(
    sim: Simulator, step: Expect, cursors: dict[str, int], earlier: dict[str, list[str]]
) -> None:
    if step.check == "redial":  # the list lives in the node: ask it (CALL-02)
        numbers = await sim.redial_list(step.device)
        before = earlier.get(step.device, [])
        wanted = expected_redial(step.args, before)
        if numbers != wanted:
            had = f" (on top of {before} from before the scenario)" if before else ""
            raise _fail(f"expected redial list {', '.join(step.args)}{had}, found {numbers}")
        return
    try:
        await sim.until(lambda: observe(sim, step, cursors)[0])
    except TimeoutError:
        _, now = observe(sim, step, cursors)
        raise _fail(
            f"expected {step.check} {' '.join(step.args)}, found {now}".replace("  ", " ")
        ) from None
    if step.check == "saw":
        cursors[step.device] = len(sim.phone(step.device).seen)
