"""Phones as MQTT devices (hook, dial, keys in; display, lamps, ringer out), the console's
reading of typed lines, and the load generator against a node behind a real broker."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest
from rich.console import Console

from cti.app.clock import ManualClock
from cti.app.engine import Engine
from cti.calls.commands import AnswerCall, ClearConnection, SetDoNotDisturb
from cti.mqtt.broker import free_port
from cti.mqtt.client import Endpoint
from cti.mqtt.face.service import MqttFace
from phone_sim.console import ALIASES, OWN, command, parse_line, render
from phone_sim.link.base import Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.load import LoadPlan, load_with
from phone_sim.model.actions import VERBS
from phone_sim.physical import PhonePanel
from phone_sim.sim import Simulator
from tests.mqtt.conftest import TESTER, TIMEOUT, CtiClient
from tests.phone_sim.conftest import Office

PHONES = "cti/node1/phones"


async def test_physical_phone_topics(face: MqttFace) -> None:
    link = MqttLink(Endpoint(face.host, face.port, TESTER), "node1", name="panel")
    sim = Simulator(link)
    await sim.start()
    panel = PhonePanel(sim, link, ["330", "331"])
    await panel.start()
    try:
        async with CtiClient(face.host, face.port, filters=[f"{PHONES}/#"]) as person:
            idle = await person.wait_for(f"{PHONES}/331/display")
            assert idle == {"lines": ["331 Bernd Vogel", ""]}
            await person.publish(f"{PHONES}/330/key", b"dss:331")  # call by BLF key
            await person.wait_for(f"{PHONES}/331/ringer", lambda d: d == {"ringer": "ring"})
            await person.wait_for(
                f"{PHONES}/331/display", lambda d: d["lines"] == ["Call from", "Anna Berger"]
            )
            await person.wait_for(f"{PHONES}/330/lamps", lambda d: d["dss:331"] == "flash")
            await person.publish(f"{PHONES}/331/hook", b"off")  # lifts: answers
            await person.wait_for(f"{PHONES}/331/ringer", lambda d: d == {"ringer": "off"})
            await person.wait_for(f"{PHONES}/330/lamps", lambda d: d["dss:331"] == "on")
            await person.wait_for(
                f"{PHONES}/330/display", lambda d: d["lines"] == ["Bernd Vogel", "Connected"]
            )
            # a key the phone does not have: feedback says so, nothing changes
            await person.publish(f"{PHONES}/330/key", b"self-destruct")
            feedback = await person.wait_for(
                f"{PHONES}/330/feedback", lambda d: d["value"] == "self-destruct"
            )
            assert feedback["ok"] is False
            assert feedback["error"]["code"] == "invalidParameterValue"
            await person.publish(f"{PHONES}/330/hook", b"sideways")
            feedback = await person.wait_for(
                f"{PHONES}/330/feedback", lambda d: d["value"] == "sideways"
            )
            assert "hook takes" in feedback["error"]["message"]
            assert sim.phone("330").status() == "talking-internal"
    finally:
        await sim.close()


async def test_console_lines_and_screen(local_office: Office) -> None:
    sim = local_office.sim
    assert parse_line("  ") is None
    assert parse_line("dial 331") == ("dials", ["331"])
    assert parse_line("press dss:332") == ("presses", ["dss:332"])
    with pytest.raises(Refusal, match="unknown command"):
        parse_line("dance")
    await sim.act("330", "calls", "331")
    out = Console(file=io.StringIO(), width=80, color_system=None)
    out.print(render(sim, "331", "ok"))
    screen = out.file.getvalue()  # type: ignore[attr-defined]
    assert "Call from" in screen and "Anna Berger" in screen
    assert "ringer ring" in screen and "dss:330" in screen


async def test_console_help_lists_every_command_it_takes(local_office: Office) -> None:
    """`help` lists every command the console takes, generated from the tables its parser
    reads, and nothing else. It listed the short words only (no `dnd`, `help` or `quit`,
    though `dnd on` worked) and ended "(or the verbs of specs)"; the two-word verbs of the
    scenario language (`hangs up`, `keys pin`) it did not take at all."""
    sim = local_office.sim
    note = await command(sim, "330", "help")
    assert note is not None and note.startswith("commands: ") and "specs" not in note
    listed = [w for entry in note.removeprefix("commands: ").split(", ") for w in entry.split("/")]
    assert {"dnd", "help", "quit", "exit", "hangs up", "keys pin"} <= set(listed)
    taken = {parse_line(w)[0] for w in listed if w not in OWN}  # type: ignore[index]
    assert taken == set(VERBS) and set(ALIASES) | set(OWN) <= set(listed)
    assert parse_line("keys pin 123456") == ("keys-pin", ["123456"])
    # whole words, whatever the spaces: joined as words, never inside one (`pinned`)
    assert parse_line("keys   pin 123456") == ("keys-pin", ["123456"])
    with pytest.raises(Refusal, match="'exchanges'"):
        parse_line("exchanges pinned")
    assert parse_line('presence meeting "Board room"') == ("presence", ["meeting", "Board room"])
    assert await command(sim, "330", "dnd on") == "ok: dnd on"
    assert sim.phone("330").dnd
    assert await command(sim, "330", "lift") == "ok: lift"
    assert await command(sim, "330", "hangs up") == "ok: hangs up"
    assert not sim.phone("330").off_hook
    assert (await command(sim, "330", "dance") or "").startswith("refused: invalidParameterValue")
    assert await command(sim, "330", " quit ") is None


def row(line: str) -> list[str]:
    """The cells of a row of a rich table ([] for a line of its frame)."""
    return [cell.strip() for cell in line.split("│")[1:-1]]


async def test_load_generator_runs_a_mix_without_errors(face: MqttFace) -> None:
    """Paced in real time (that is what a load generator does), but bounded: ~1.5 s."""
    # Not a terminal: the report whole at its natural width, whatever the width says.
    out = Console(file=io.StringIO(), width=30, color_system=None)
    plan = LoadPlan(devices=12, rate=20, duration=1.5, seed=7)
    stats = await load_with(
        MqttLink(Endpoint(face.host, face.port, TESTER), "node1", name="load"), plan, out
    )
    assert stats.errors == {}
    assert stats.completed == stats.started >= 10
    assert len(stats.flows) >= 4  # a mix, not one kind of call
    assert len(stats.latencies) >= 3 * stats.completed
    report = out.file.getvalue()  # type: ignore[attr-defined]
    rows = {cells[0]: cells[1] for line in report.splitlines() if len(cells := row(line)) == 2}
    assert rows["calls completed"] == str(stats.completed)  # a row a line, not wrapped
    assert rows["mix"] == ", ".join(f"{k} {v}" for k, v in sorted(stats.flows.items()))
    assert not any(c for c in face.node.state.calls.calls.values()), "calls left behind"


async def test_an_unreachable_member_of_the_broker_cluster_is_passed_over(face: MqttFace) -> None:
    """``--mqtt-url A,B`` with nothing at A: the link connects through B (specs/mqtt.md)."""
    dead = free_port()
    endpoint = Endpoint("127.0.0.1", dead, TESTER, others=((face.host, face.port),))
    link = MqttLink(endpoint, "node1", name="members")
    await link.start()
    try:
        reply = await link.request("snapshotDevice", {"device": "330"})
        assert reply["ok"] is True and reply["result"] == []  # 330 is idle
    finally:
        await link.close()


async def test_events_missed_while_disconnected_are_replayed(
    face: MqttFace, node: tuple[Engine, ManualClock]
) -> None:
    """A phone must not keep a call that ended while its link was away: after reconnecting,
    the link replays from the last event it had, then delivers what arrived meanwhile."""
    engine, clock = node
    link = MqttLink(Endpoint(face.host, face.port, TESTER), "node1", name="flaky")
    sim = Simulator(link, clock)
    await sim.start()
    try:
        await sim.act("330", "calls", "331")
        assert sim.phone("331").ringer == "ring"
        gate = asyncio.Event()
        connect = link._connect

        async def after_gate() -> None:
            await gate.wait()
            await connect()

        link._connect = after_gate  # type: ignore[method-assign]
        catch_up = link._catch_up

        async def live_event_first(resume: int) -> None:
            # A live event reaches the new connection before the replay of the gap has run.
            await engine.execute(SetDoNotDisturb(device="332", on=True))
            await sim.until(lambda: sim.phone("332").dnd)
            await catch_up(resume)

        link._catch_up = live_event_first  # type: ignore[method-assign]
        client = link._client
        assert client is not None and client._writer is not None
        client._writer.close()  # the connection drops
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(asyncio.shield(client.closed), TIMEOUT)  # type: ignore[arg-type]
        # Meanwhile the call is answered and ended; the face publishes it to nobody we know.
        await engine.execute(AnswerCall(call=1, device="331"))
        await engine.execute(ClearConnection(call=1, device="330"))
        while face.outbox.acked < engine.node.state.seq:
            await asyncio.sleep(0.01)  # the broker has every event (polled, bounded below)
        gate.set()
        await sim.until(lambda: not sim.phone("331").legs and not sim.phone("330").legs)
        assert sim.phone("331").seen[-3:] == ["established", "connectionCleared", "callCleared"]
        await sim.until(lambda: sim.phone("332").dnd)
    finally:
        await sim.close()


async def test_phones_with_nothing_to_host_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A node whose site has no physical phones (and none named): one line, exit 2, not an
    IndexError from the hint that names the first hosted phone."""
    from phone_sim import physical

    class Fake:  # the link and the simulator of a node with a conference bridge only
        kinds = {"391": "conference_bridge"}
        closed = False
        node, connects, watchers = "branch", 0, []
        node_online = True  # the node is there; it just has no phones

        async def subscribe(self, topic: str) -> None:
            pass

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        async def start(self) -> None:
            pass

        async def close(self) -> None:
            Fake.closed = True

    monkeypatch.setattr(physical, "MqttLink", Fake)
    monkeypatch.setattr(physical, "Simulator", Fake)
    endpoint = Endpoint("127.0.0.1", free_port())
    assert await physical.run_phones(endpoint, "branch", [], Console(file=io.StringIO())) == 2
    err = capsys.readouterr().err
    assert err == "phone-sim: node branch has no phones to host (name them: phones 330 331)\n"
    assert Fake.closed
