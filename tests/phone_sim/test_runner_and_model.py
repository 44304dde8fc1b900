"""The scenario language, the runner's verdicts and the phone model's reading of documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.calls.commands import MakeCall
from phone_sim.behaviour import Behaviour
from phone_sim.link.base import Refusal
from phone_sim.link.inprocess import InProcessLink
from phone_sim.model import display
from phone_sim.model.actions import NotPossible, plan
from phone_sim.model.phone import Phone
from phone_sim.scenario import ScenarioError, ScenarioFailed, load, parse_step, run
from phone_sim.scenario.parse import Action, Advance, Expect, from_dict
from phone_sim.sim import Simulator
from tests.phone_sim.conftest import Office


def test_steps_read_as_written() -> None:
    assert parse_step("330 dials 331") == Action("330", "dials", ("331",))
    assert parse_step("331 hangs up") == Action("331", "hangs-up", ())
    assert parse_step("336 picks up 331 fails with noCallToAnswer") == Action(
        "336", "picks-up", ("331",), "noCallToAnswer"
    )
    assert parse_step('330 calls "+49 (30) 1234-567"') == Action(
        "330", "calls", ("+49 (30) 1234-567",)
    )
    assert parse_step("expect 331 talking-internal") == Expect("331", "talking-internal")
    assert parse_step("expect 330 saw held, retrieved") == Expect(
        "330", "saw", ("held", "retrieved")
    )
    assert parse_step('expect 330 display "On hold"') == Expect("330", "display", ("On hold",))
    assert parse_step('expect 330 display "picks up"') == Expect("330", "display", ("picks up",))
    assert parse_step("advance 10s") == Advance(10.0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("330 juggles", "unknown action"),
        ("expect 330 happy", "unknown check"),
        ("advance soon", "advance 20s"),
        ("330 calls 331 fails", "fails with"),
        ("", "empty step"),
    ],
)
def test_bad_steps_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ScenarioError, match=says):
        parse_step(text)


def test_bad_files_name_the_step() -> None:
    with pytest.raises(ScenarioError, match="step 2"):
        from_dict({"name": "x", "steps": ["330 calls 331", "330 flies"]}, "x.yaml")
    with pytest.raises(ScenarioError, match="quote the number"):
        from_dict({"name": "x", "steps": [], "parties": {4930111: "busy"}}, "x.yaml")
    with pytest.raises(ScenarioError, match="unknown behaviour"):
        from_dict({"name": "x", "steps": [], "parties": {"+4930111": "sings"}}, "x.yaml")


def test_behaviours() -> None:
    assert Behaviour.parse("answers after 2 rings") == Behaviour(answer_after=2)
    assert Behaviour.parse("answers, hangs up after 30s") == Behaviour(0, False, 30.0)
    assert Behaviour.parse("busy") == Behaviour(busy=True)
    assert Behaviour.parse("no answer") == Behaviour()


def test_a_phone_without_a_call_cannot_hold_or_answer() -> None:
    phone = Phone("330")
    with pytest.raises(NotPossible) as held:
        plan(phone, "holds", [])
    assert held.value.code == "invalidConnectionID"
    with pytest.raises(NotPossible) as answered:
        plan(phone, "answers", [])
    assert answered.value.code == "noCallToAnswer"


def test_a_flashing_busy_lamp_key_picks_up() -> None:
    (req,) = plan(Phone("330"), "presses", ["dss:331"], {"331": "incoming-internal"})
    assert (req.service, req.fields) == (
        "directedPickupCall",
        {"picked": "331", "device": "330"},
    )
    lift, dial = plan(Phone("330"), "presses", ["dss:331"], {"331": "idle"})
    assert (lift.service, dial.service, dial.fields["digits"]) == ("offHook", "dial", "331")


def test_a_phone_is_rebuilt_from_the_connection_list_of_any_event() -> None:
    """A phone that missed the start of a call still shows it from the next event."""
    phone = Phone("331", name="Bernd Vogel")
    phone.on_event(
        {
            "seq": 7,
            "event": "established",
            "call": 4,
            "cause": "newCall",
            "calling": "330",
            "called": "331",
            "connections": [
                {"device": "330", "state": "connected"},
                {"device": "331", "state": "connected"},
            ],
        }
    )
    assert phone.off_hook and phone.speaker
    assert display.render(phone, {"330": "Anna Berger"}) == ("Anna Berger", "Connected")
    phone.on_event(
        {
            "seq": 8,
            "event": "connectionCleared",
            "call": 4,
            "cause": "normalClearing",
            "device": "330",
            "connections": [{"device": "330", "state": "null"}, {"device": "331", "state": "null"}],
        }
    )
    assert not phone.legs and not phone.off_hook
    assert display.render(phone, {}) == ("331 Bernd Vogel", "")
    assert phone.seen == ["established", "connectionCleared"]


async def test_a_wrong_expectation_fails_the_scenario_with_what_was_there(
    local_office: Office,
) -> None:
    scenario = from_dict(
        {"name": "wrong", "steps": ["330 calls 331", "expect 331 talking-internal"]}, "w"
    )
    local_office.sim.timeout = 0.2
    with pytest.raises(ScenarioFailed) as failed:
        await run(local_office.sim, scenario, advance=local_office.advance)
    assert failed.value.index == 2
    assert "found incoming-internal" in failed.value.detail


async def test_an_unexpected_refusal_fails_and_an_expected_one_must_match(
    local_office: Office,
) -> None:
    sim = local_office.sim
    with pytest.raises(Refusal) as refused:
        await sim.act("330", "calls", "330")
    assert refused.value.code == "notDifferentDevices"
    scenario = from_dict({"name": "x", "steps": ["330 calls 330 fails with invalidCallID"]}, "x")
    with pytest.raises(ScenarioFailed, match="refused with notDifferentDevices"):
        await run(sim, scenario)
    scenario = from_dict({"name": "y", "steps": ["330 calls 331 fails with invalidCallID"]}, "y")
    with pytest.raises(ScenarioFailed, match="succeeded"):
        await run(sim, scenario)


async def test_redial_expectations_are_relative_to_the_list_before(
    local_office: Office,
) -> None:
    """CALL-02 (issue 18 item 9): ``expect N redial …`` names what the scenario dialled; the
    list may hold older numbers behind them (a used node), which the check allows and the
    failure shows; a user with nothing dialled cannot redial (invalidDestination)."""
    sim = local_office.sim
    with pytest.raises(Refusal) as refused:
        await sim.act("331", "redials")
    assert refused.value.code == "invalidDestination"
    for called in ("332", "333"):
        await sim.act("331", "calls", called)
        await sim.act("331", "hangs-up")
    steps = ["331 calls 330", "331 hangs up", "expect 331 redial 330"]
    await run(sim, from_dict({"name": "again", "steps": steps}, "a"), advance=local_office.advance)
    assert await sim.redial_list("331") == ["330", "333", "332"]
    wrong = from_dict({"name": "wrong", "steps": [*steps[:2], "expect 331 redial 332"]}, "w")
    with pytest.raises(ScenarioFailed) as failed:
        await run(sim, wrong, advance=local_office.advance)
    assert "on top of ['330', '333', '332'] from before" in failed.value.detail


async def test_requests_are_done_when_their_events_are_seen_not_later(
    local_office: Office,
) -> None:
    """A device state's seq is its last change (specs/mqtt.md), so the simulator's wait for
    what a request caused must hold without states carrying the log position: a query
    waits for nothing (seq 2 here is internal seeding), and a makeCall whose last event
    sets an internal no-answer timer (CALL-16) is covered by the state of the timer's
    device (issue 18 item 9)."""
    from structlog.testing import capture_logs

    sim = local_office.sim
    await sim.act("332", "forwards", "no-answer", "to", "351", "after", "10s")
    with capture_logs() as logs:
        assert await sim.redial_list("330") == []
        await sim.act("330", "calls", "332")
        await sim.act("330", "hangs-up")
    assert [e for e in logs if e["event"] == "phone_sim.events_late"] == []


async def test_a_simulator_started_mid_call_knows_the_call(
    node: tuple[Engine, ManualClock],
) -> None:
    engine, clock = node
    await engine.execute(MakeCall(calling="330", called="331"))
    sim = Simulator(InProcessLink(engine), clock)
    await sim.start()
    try:
        assert sim.phone("331").ringer == "ring"
        assert sim.phone("330").status() == "outgoing"
        await sim.act("331", "answers")  # it knows which call to answer
        assert sim.phone("331").status() == "talking-internal"
    finally:
        await sim.close()


async def test_a_scenario_runs_again_on_a_used_node(local_office: Office) -> None:
    """specs/phone-sim.md: devices are reset first, and a busy trunk party the scenario
    occupied is freed at the end, so the same scenario passes twice on one node."""
    path = Path(__file__).parents[2] / "phone_sim" / "scenarios" / "call-01-make-call.yaml"
    for _ in range(2):
        await run(local_office.sim, load(path), advance=local_office.advance)
    assert not local_office.sim.phone("+4930555111").off_hook


async def test_keyed_digits_reach_the_other_party_as_an_event(local_office: Office) -> None:
    """``keys`` sends generateDigits on the active call; the other phone sees digitsGenerated
    and nothing changes in the call; without a call it is refused like the node would."""
    steps = [
        "330 calls 331",
        "331 answers",
        "expect 331 saw delivered, established",
        "330 keys 12#",
        "expect 331 saw digitsGenerated",
        "expect 330 talking-to 331",
        "332 keys 1 fails with invalidConnectionID",
    ]
    scenario = from_dict({"name": "dtmf", "requirements": [], "steps": steps}, "d")
    await run(local_office.sim, scenario, advance=local_office.advance)


async def test_a_command_that_publishes_no_event_is_not_waited_for(local_office: Office) -> None:
    """Favourites' events are internal (kept in the log, never on an event topic): the
    reply says ``"published": false`` and the simulator waits for nothing, instead of its
    whole timeout for a seq no event document will ever show (specs/mqtt.md)."""
    from structlog.testing import capture_logs

    from cti.accounts.commands import SeedAccounts
    from cti.api.execute import execute
    from cti.api.requests import parse_action
    from tests.presence.helpers import seeds

    assert (await local_office.engine.execute(SeedAccounts(accounts=seeds()))).ok
    sim = local_office.sim
    sim.timeout = 0.5  # a wait would end in phone_sim.events_late, bounded
    with capture_logs() as logs:
        added = await sim.request("addFavourite", user="331", groupName="Team", colleague="332")
        await sim.act("330", "calls", "332")  # a command whose events are published
    assert [e for e in logs if e["event"] == "phone_sim.events_late"] == []
    assert added["group"] == 1
    engine, node = local_office.engine, local_office.engine.node
    again = parse_action("addFavourite", {"user": "331", "groupName": "Team", "colleague": "333"})
    reply = await execute(engine, again, None)
    assert reply["published"] is False and reply["seq"] == node.state.seq
    nothing = parse_action("removeFavourite", {"user": "331", "entry": 99})
    assert not (await execute(engine, nothing, None))["ok"]
    call = parse_action("makeCall", {"calling": "331", "called": "333"})
    assert "published" not in await execute(engine, call, None)  # its events go out
