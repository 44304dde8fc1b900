"""A deleted message's WAV file is removed once no message refers to it (VM-02), after the
deletion is committed, never while a put of it is under way, and a crash leaves at most a
file behind for the sweep at the next start (specs/voicemail.md "Removing recordings")."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from pathlib import Path

import attrs

from cti.accounts.commands import SeedAccounts
from cti.api.execute import execute
from cti.api.requests import parse_action
from cti.api.voicemail import AUDIO
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.engine import Engine
from cti.app.node import Node
from cti.calls import commands as c
from cti.store import SqliteStore
from cti.voicemail.audio_db import AudioStore
from cti.voicemail.audio_sweep import AudioSweeper
from tests.presence.helpers import seeds
from tests.voicemail.helpers import VM, Voicemail, tone

BERND, CLARA = "331", "332"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sweep(vm: Voicemail) -> list[str]:
    return asyncio.run(AudioSweeper(vm.node, vm.audio).sweep())


def test_a_file_goes_when_its_last_message_goes_shared_bytes_stay(tmp_path: Path) -> None:
    """Two messages with the same bytes share one file (content-addressed); it stays while
    either refers to it, and goes with the last; another recording is untouched."""
    vm = Voicemail(tmp_path)
    same, other = tone(3.0), tone(2.5, hz=330)
    for caller, user, wav in (("330", BERND, same), ("332", BERND, other), ("330", CLARA, same)):
        call = vm.deflected(caller, user)
        audio = base64.b64encode(wav).decode()
        vm.ok("leaveVoicemailMessage", call=call, device=caller, audio=audio)
        vm.office.do(c.ClearCall(call=call))
    shared, own = sha256_of(same), sha256_of(other)
    assert vm.audio.files() == sorted({shared, own})
    assert sweep(vm) == []  # everything referenced

    vm.ok("deleteVoicemailMessage", principal=BERND, user=BERND, message=1)
    assert sweep(vm) == []  # Clara's message 1 has the same bytes
    assert vm.audio.get(shared) == same

    vm.ok("deleteVoicemailMessage", principal=CLARA, user=CLARA, message=1)
    assert sweep(vm) == [shared]
    assert vm.audio.files() == [own]
    assert vm.audio.get(own) == other
    # Listening to the deleted message: it is gone (the file with it), a clear refusal.
    assert vm.error("listenVoicemailMessage", principal=CLARA, user=CLARA, message=1) == (
        "unknownVoicemailMessage"
    )


def test_a_file_being_stored_or_committed_since_the_sweep_began_is_kept(tmp_path: Path) -> None:
    """The windows a sweep could race a recording in: the file is pending (put, not yet
    decided) or was committed after the sweep read the state (released since): kept both
    times; a file whose command was refused is removed by the next sweep."""
    store = AudioStore(tmp_path / "audio")
    wav = tone(1.0)
    sha = store.put(wav)  # pending: its command is being decided
    assert store.sweep(frozenset(), store.begin_sweep()) == []
    kept = store.begin_sweep()  # a sweep reads the state (no reference) ...
    store.release(sha)  # ... then the message is committed and the put released
    assert store.sweep(frozenset(), kept) == []
    assert store.sweep(frozenset(), frozenset()) == []  # still released since begin_sweep
    # The next sweep's state would show the message; without it (refused): removed.
    assert store.sweep(frozenset(), store.begin_sweep()) == []  # released before that read
    assert store.sweep(frozenset(), store.begin_sweep()) == [sha]
    assert store.files() == []
    # A put that began after the sweep read the state: pending at the check, kept.
    kept = store.begin_sweep()
    again = store.put(wav)
    assert store.sweep(frozenset(), kept) == [] and store.files() == [again]
    store.release(again)


def test_a_temporary_file_of_a_dead_put_is_swept(tmp_path: Path) -> None:
    store = AudioStore(tmp_path / "audio")
    sha = sha256_of(tone(1.0))
    (store.root / sha[:2]).mkdir()
    (store.root / sha[:2] / f"{sha}.tmp99999").write_bytes(b"half a file")
    assert store.sweep(frozenset(), store.begin_sweep()) == [sha]
    assert list((store.root / sha[:2]).iterdir()) == []


async def start(data: Path) -> tuple[Engine, SqliteStore, AudioStore]:
    store = SqliteStore(data / "node1.db")
    node = Node(load_site(), store, ManualClock())
    audio = node.read_models[AUDIO] = AudioStore(data / "audio")
    engine = Engine(node)
    await engine.start()
    return engine, store, audio


async def test_a_crash_between_the_deletion_and_the_sweep_leaves_the_file_for_the_next_start(
    tmp_path: Path,
) -> None:
    """The kill -9 window: the deletion is committed, the node dies before its sweep (here:
    no sweeper ran); the file is left behind, never a referenced one taken. At the next start
    the sweeper's first sweep removes it, and a later deletion's file goes while it runs."""
    engine, store, audio = await start(tmp_path)
    people = tuple(attrs.evolve(s, must_change=False) for s in seeds())
    assert (await engine.execute(SeedAccounts(accounts=people))).ok
    shas = []
    for caller, hz in (("330", 440), ("332", 330)):
        call = (await engine.execute(c.MakeCall(calling=caller, called=BERND))).result["call"]
        assert (await engine.execute(c.DeflectCall(call=call, device=BERND, to=VM))).ok
        wav = tone(2.0, hz=hz)
        fields = {"call": call, "device": caller, "audio": base64.b64encode(wav).decode()}
        action = parse_action("leaveVoicemailMessage", fields)
        assert (await execute(engine, action, None))["ok"]
        shas.append(sha256_of(wav))
    delete = parse_action("deleteVoicemailMessage", {"user": BERND, "message": 1})
    assert (await execute(engine, delete, None))["ok"]
    await engine.stop()  # "killed" after the commit, before any sweep
    store.close()
    assert audio.files() == sorted(shas)  # left behind, nothing lost

    engine, store, audio = await start(tmp_path)
    sweeper = AudioSweeper(engine.node, audio)
    await sweeper.start()
    try:
        await sweeper.caught_up(engine.node.state.seq)
        assert audio.files() == [shas[1]]  # message 2's file stays
        delete = parse_action("deleteVoicemailMessage", {"user": BERND, "message": 2})
        reply = await execute(engine, delete, None)
        await sweeper.caught_up(reply["seq"])
        assert audio.files() == []
        assert sweeper.removed == 2
    finally:
        await sweeper.stop()
        await engine.stop()
        store.close()
