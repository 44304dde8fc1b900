"""VM-03 over DTMF: the PIN and its change keyed with ``generateDigits`` towards the voicemail
take the path of ``enterVoicemailPin`` / ``changeVoicemailPinOnPhone`` (cti.api.voicemail.
keys_pin): the same rules, throttle and events, and no digit of a PIN in an event, a log line,
the store or anything published."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
from structlog.testing import capture_logs

from cti.accounts import passwords
from cti.accounts.commands import SeedAccounts
from cti.api.voicemail import AUDIO
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node, decode
from cti.calls import commands as c
from cti.csta.client import CstaRefused
from cti.csta.ids import connection, device_id
from cti.mqtt.client import Endpoint
from cti.mqtt.face.service import MqttFace
from cti.store import SqliteStore
from cti.voicemail import pins
from cti.voicemail.audio_db import AudioStore
from phone_sim import scenario
from phone_sim.link.mqtt import MqttLink
from phone_sim.sim import Simulator
from tests.api.test_schema import check
from tests.csta.conftest import TIMEOUT as CSTA_TIMEOUT
from tests.csta.conftest import running_link
from tests.mqtt import conftest as mqtt
from tests.mqtt.conftest import TESTER, TIMEOUT, CtiClient, Mosquitto, running_broker
from tests.office import fmt
from tests.presence.helpers import seeds
from tests.voicemail.helpers import Voicemail

SCENARIO = Path(__file__).parents[2] / "phone_sim/scenarios/voicemail/vm-03-pin-as-dtmf.yaml"
# Every PIN the scenario keys but the default 123456: that one is known to all (VM-03), and
# the example office's mobile numbers contain it.
PINS = ("864297", "135790", "135791", "111111")


@pytest.fixture
def vm(tmp_path: Path) -> Voicemail:
    return Voicemail(tmp_path)


def keys(vm: Voicemail, call: int, digits: str, device: str = "331") -> dict[str, object]:
    reply = vm.request("generateDigits", call=call, device=device, digits=digits)
    check("reply.generateDigits", reply)  # the API contract: {} or a refusal
    return reply


def test_vm_03_the_default_pin_keyed_opens_and_the_change_is_keyed_twice(vm: Voicemail) -> None:
    call = vm.dialled("331")
    seq = vm.node.state.seq
    assert keys(vm, call, "123456#")["result"] == {}
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={call} device=331 pin_change_required=True"
    ]
    assert vm.error("generateDigits", call=call, device="331", digits="1") == (
        "defaultPinNotChanged"
    )
    assert vm.error("generateDigits", call=call, device="331", digits="8135790#135791#") == (
        "pinMismatch"
    )
    assert vm.error("generateDigits", call=call, device="331", digits="8111111111111") == (
        "pinPolicy"
    )
    assert vm.error_reply["details"] == {"failed": ["allSame"]}
    assert vm.error("generateDigits", call=call, device="331", digits="8") == "pinPolicy"
    assert vm.error_reply["details"] == {"failed": ["length"]}
    seq = vm.node.state.seq
    assert keys(vm, call, "8135790#135790#")["ok"]
    [event] = vm.events_since(seq)
    assert re.fullmatch(
        r"voicemailPinSet mailbox=331 pin_hash=\$argon2id\$\S+ on_phone=True", event
    )
    stored = vm.node.state.voicemail.of("331").pin_hash
    assert stored is not None and passwords.verify_password(stored, "135790")
    vm.office.do(c.ClearConnection(call=call, device="331"))
    call = vm.dialled("331")
    assert vm.error("generateDigits", call=call, device="331", digits="123456") == "wrongPin"
    seq = vm.node.state.seq
    assert keys(vm, call, "135790")["result"] == {}
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={call} device=331 pin_change_required=False"
    ]
    assert not any("135790" in str(x) for x in vm.office.committed())
    # The PIN keyed again in the open menu is an unknown key: refused without echoing it.
    reply = keys(vm, call, "135790")
    assert reply["error"]["code"] == "invalidParameterValue"  # type: ignore[index]
    assert "135790" not in str(reply)


def test_vm_03_wrong_keyed_pins_share_the_throttle_of_enter_voicemail_pin(
    vm: Voicemail,
) -> None:
    call = vm.dialled("331")
    now = vm.office.clock.now_ms()
    assert vm.error("enterVoicemailPin", call=call, device="331", pin="000001") == "wrongPin"
    for failures in (2, 3):
        assert vm.error("generateDigits", call=call, device="331", digits="000001#") == "wrongPin"
        locked = now + pins.lock_ms(failures) if failures >= pins.FREE_TRIES else 0
        assert vm.error_reply["details"] == {"failures": failures, "lockedUntil": locked}
    assert vm.events_since(vm.node.state.seq - 1) == [
        f"pinRejected mailbox=331 caller=331 failures=3 locked_until={now + pins.LOCK_MS}"
    ]
    assert vm.error("generateDigits", call=call, device="331", digits="123456") == "pinLocked"
    vm.office.clock.advance(pins.LOCK_MS / 1000)
    seq = vm.node.state.seq
    assert keys(vm, call, "123456")["result"] == {}
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={call} device=331 pin_change_required=True"
    ]
    assert vm.node.state.voicemail.throttle("331", "331").failures == 0


@pytest.mark.parametrize("digits", ["12345", "1234567", "1", "*", "123456##"])
def test_vm_03_keys_not_shaped_as_a_pin_before_it_are_ignored(vm: Voicemail, digits: str) -> None:
    call = vm.dialled("331")
    seq = vm.node.state.seq
    assert keys(vm, call, digits) == {"ok": True, "result": {}, "seq": seq, "published": False}
    assert vm.events_since(seq) == []


def test_vm_03_a_caller_leaving_a_message_keys_no_pin(vm: Voicemail) -> None:
    call = vm.deflected("330", "331")
    seq = vm.node.state.seq
    assert keys(vm, call, "123456", device="330")["ok"]
    assert vm.events_since(seq) == []


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    store = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), store, ManualClock())
    node.read_models[AUDIO] = AudioStore(tmp_path / "audio")
    engine = Engine(node)
    await engine.start()
    people = tuple(attrs.evolve(s, must_change=False) for s in seeds())
    assert (await engine.execute(SeedAccounts(accounts=(*people, mqtt.tester_seed())))).ok
    yield engine
    await engine.stop()
    store.close()


async def test_vm_03_no_keyed_pin_in_the_store_a_log_line_or_anything_published(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """phone-sim keys the PINs as DTMF over a real Mosquitto; a client subscribed to ``#``
    sees every topic and payload; the store's files and every log line are searched."""
    caplog.set_level(logging.DEBUG)
    async for broker in running_broker("mosquitto", tmp_path):
        assert isinstance(broker, Mosquitto)
        reader = engine.node.store.sibling()
        face = MqttFace(engine, reader, broker.host, broker.port)
        task = asyncio.create_task(face.run())
        try:
            await asyncio.wait_for(face.connected.wait(), TIMEOUT)
            async with CtiClient(broker.host, broker.port, filters=("#",), name="spy") as spy:
                link = MqttLink(Endpoint(face.host, face.port, TESTER), "node1")
                sim = Simulator(link, engine.node.clock, timeout=TIMEOUT)
                with capture_logs() as logs:
                    await sim.start()
                    try:
                        await scenario.run(sim, scenario.load(SCENARIO))
                    finally:
                        await sim.close()
                # Everything but the phone's own requests (a PIN is sent to the node as in
                # enterVoicemailPin): the replies, events, documents, statuses.
                published = [(m.topic, m.payload) for m in spy.messages]
                requests = [p for t, p in published if "/requests/" in t]
                published = [(t, p) for t, p in published if "/requests/" not in t]
        finally:
            await face.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            reader.close()
    stored = engine.node.state.voicemail.of("331").pin_hash
    assert stored is not None and passwords.verify_password(stored, "135790")
    assert any(b"presence" in t.encode() or b"meeting" in p for t, p in published)
    lines = [str(entry) for entry in logs] + [r.getMessage() for r in caplog.records]
    files = b"".join(f.read_bytes() for f in tmp_path.glob("node1.db*"))
    events = [str(x) for x in engine.node.store.read(0)]
    assert events and lines and requests
    for pin in PINS:
        assert any(pin.encode() in payload for payload in requests), pin  # the search finds
        hits = [t for t, p in published if pin in t or pin.encode() in p]
        assert not hits, (pin, [p for t, p in published if pin.encode() in p][:1])
        assert not any(pin in line for line in lines), pin
        assert pin.encode() not in files, pin
        assert not any(pin in event for event in events), pin


async def test_vm_03_the_pin_keyed_over_the_csta_link() -> None:
    """An application keys the PIN and its change with CSTA generateDigits: the same path
    (a wrong PIN is a returnError securityViolation and counts against the throttle)."""
    async with running_link() as link:
        people = tuple(attrs.evolve(s, must_change=False) for s in seeds())
        assert (await link.engine.execute(SeedAccounts(accounts=people))).ok
        app = link.client()
        await app.associate()
        await asyncio.wait_for(app.system_status.wait(), CSTA_TIMEOUT)
        try:
            dial = {"callingDevice": device_id("331"), "calledDirectoryNumber": device_id("351")}
            result = await app.invoke("makeCall", dial)
            call = 1  # the node's first call
            assert result == {"callingDevice": connection(call, "331")}

            async def keys(digits: str) -> None:
                argument = {"connectionToSendDigits": connection(call, "331")}
                await app.invoke("generateDigits", {**argument, "charactersToSend": digits})

            seq = link.node.state.seq
            with pytest.raises(CstaRefused) as refused:
                await keys("864297")
            assert (refused.value.branch, refused.value.value) == (
                "operation",
                "securityViolation",
            )
            await keys("123456#")
            with pytest.raises(CstaRefused):
                await keys("8135790#135791#")
            await keys("8135790#135790#")
            events = [fmt(decode(x).event) for x in link.node.store.read(seq + 1)]
        finally:
            await app.close()
    assert events[0] == "pinRejected mailbox=331 caller=331 failures=1 locked_until=0"
    assert events[1] == f"mailboxOpened mailbox=331 call={call} device=331 pin_change_required=True"
    assert re.fullmatch(r"voicemailPinSet mailbox=331 pin_hash=\S+ on_phone=True", events[2])
    assert len(events) == 3
    stored = link.node.state.voicemail.of("331").pin_hash
    assert stored is not None and passwords.verify_password(stored, "135790")
    assert not any(pin.encode() in x.data for x in link.node.store.read(1) for pin in PINS)
