"""The MQTT face survives a full disk (issue 18: a full disk killed the face for good).

The disk fills just after the broker acknowledged events: saving the outbox position fails
in the face's saver task and again in the ``finally`` of a broker disconnect. Both failures
are logged (``mqtt.position_not_saved``) and the face goes on: it reconnects to the restarted
broker, keeps publishing, and saves its position again once there is space. The failure is
injected into the connection the outbox saves its position on, at that moment (what SQLite
raises on a full disk becomes a StoreError there); everything else is real: the broker, the
node, the log.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from structlog.testing import capture_logs

from cti.calls import commands as c
from cti.mqtt.face.outbox import POSITION_KEY
from cti.store import StoreError
from tests.mqtt.conftest import BASE, TESTER_PASSWORD, TIMEOUT, CtiClient, Mosquitto, NodeFace
from tests.waiting import until


async def test_a_full_disk_while_saving_the_position_costs_the_face_nothing(
    broker: Mosquitto, node_face: NodeFace, monkeypatch: pytest.MonkeyPatch
) -> None:
    nf = node_face
    face, outbox_store = nf.face, nf.reader
    position = face.outbox._position  # the saver's own connection (in its worker thread)
    failures: list[str] = []
    save = position.set_meta

    def full_disk(key: str, value: str) -> None:
        failures.append(value)
        raise StoreError("database or disk is full")

    with capture_logs() as logs:
        monkeypatch.setattr(position, "set_meta", full_disk)
        assert (await nf.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        await until(lambda: face.outbox.acked == nf.node.state.seq, "the broker took the event")
        await until(lambda: bool(failures), "the saver tried to save the position")

        broker.kill()  # the disconnect's `finally` saves again: the disk is still full
        await until(lambda: not face.connected.is_set(), "the face saw the broker go")
        await broker.restart()
        await asyncio.wait_for(face.connected.wait(), TIMEOUT)
        assert face._runner is None or not face._runner.done()

        monkeypatch.setattr(position, "set_meta", save)  # space again
        async with CtiClient(broker.host, broker.port, password=TESTER_PASSWORD) as ui:
            assert (await nf.engine.execute(c.SetDoNotDisturb(device="330", on=False))).ok
            state = await ui.wait_for(f"{BASE}/devices/330/state", lambda d: not d["dnd"])
            assert state["seq"] == nf.node.state.seq
        await until(
            lambda: outbox_store.get_meta(POSITION_KEY) == str(nf.node.state.seq),
            "the position is saved again",
        )
    not_saved = [e for e in logs if e["event"] == "mqtt.position_not_saved"]
    assert len(not_saved) >= 2 and all(e["log_level"] == "error" for e in not_saved)
    assert "database or disk is full" in not_saved[0]["error"]


async def test_a_position_save_that_hangs_holds_neither_the_loop_nor_a_second_save(
    broker: Mosquitto, node_face: NodeFace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox's position is saved in a worker thread on a connection of its own: a
    database that stops answering (a partition: the save waits for TCP) holds neither the
    event loop, which goes on committing and publishing, nor a queue of saves behind it. It
    was saved on the loop, which stood still for as long as the save hung."""
    nf = node_face
    face = nf.face
    position = face.outbox._position
    save = position.set_meta
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def hanging(key: str, value: str) -> None:
        calls.append(value)
        entered.set()
        assert release.wait(3 * TIMEOUT), "the test never released the save"
        save(key, value)

    monkeypatch.setattr(position, "set_meta", hanging)
    assert (await nf.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
    await asyncio.to_thread(entered.wait, TIMEOUT)
    try:
        # The save hangs; the loop commits, publishes and has the broker's PUBACK meanwhile.
        assert (await nf.engine.execute(c.SetDoNotDisturb(device="330", on=False))).ok
        await until(lambda: face.outbox.acked == nf.node.state.seq, "published while it hangs")
        assert len(calls) == 1  # not asked again behind the hanging one
    finally:
        release.set()
    await until(
        lambda: nf.reader.get_meta(POSITION_KEY) == str(nf.node.state.seq),
        "the position saved once the database answers",
    )


async def test_a_save_that_fails_as_no_store_would_is_logged_and_tried_again(
    broker: Mosquitto, node_face: NodeFace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault in the saver's thread (not a StoreError, which the save logs itself) is logged
    whole, not left in its future ("exception was never retrieved"), and the next tick saves."""
    nf = node_face
    position = nf.face.outbox._position
    save = position.set_meta
    faults: list[str] = []

    def once(key: str, value: str) -> None:
        if not faults:
            faults.append(value)
            raise RuntimeError("a fault of the saver")
        save(key, value)

    monkeypatch.setattr(position, "set_meta", once)
    with capture_logs() as logs:
        assert (await nf.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        await until(
            lambda: nf.reader.get_meta(POSITION_KEY) == str(nf.node.state.seq),
            "saved on a later tick",
        )
    failed = [e for e in logs if e["event"] == "mqtt.position_save_failed"]
    assert len(failed) == 1 and failed[0]["log_level"] == "error", logs
    assert isinstance(failed[0]["exc_info"], RuntimeError)
