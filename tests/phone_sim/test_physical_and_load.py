"""Phones as MQTT devices (hook, dial, keys in; display, lamps, ringer out), the console's
reading of typed lines, and the load generator against a node behind a real broker."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cti.mqtt.service import MqttFace
from phone_sim.console import parse_line, render
from phone_sim.link.base import Refusal
from phone_sim.link.mqtt import MqttLink
from phone_sim.load import LoadPlan, load_with
from phone_sim.physical import PhonePanel
from phone_sim.sim import Simulator
from tests.mqtt.conftest import CtiClient
from tests.phone_sim.conftest import Office

PHONES = "cti/node1/phones"


async def test_physical_phone_topics(face: MqttFace) -> None:
    link = MqttLink(face.host, face.port, "node1", name="panel")
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


async def test_load_generator_runs_a_mix_without_errors(face: MqttFace) -> None:
    """Paced in real time (that is what a load generator does), but bounded: ~1.5 s."""
    out = Console(file=io.StringIO(), width=100, color_system=None)
    plan = LoadPlan(devices=12, rate=20, duration=1.5, seed=7)
    stats = await load_with(MqttLink(face.host, face.port, "node1", name="load"), plan, out)
    assert stats.errors == {}
    assert stats.completed == stats.started >= 10
    assert len(stats.flows) >= 4  # a mix, not one kind of call
    assert len(stats.latencies) >= 3 * stats.completed
    assert "achieved calls/s" in out.file.getvalue()  # type: ignore[attr-defined]
    assert not any(c for c in face.node.state.calls.values()), "calls left behind"
