"""VM-03: the PIN's rules (a table and a property), the default PIN changed on the phone
first, a client's change over an encrypted link only, wrong PINs throttled per mailbox and
caller; no PIN in an event."""

from __future__ import annotations

import gc
import itertools
import re
import weakref
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.accounts import passwords
from cti.api import voicemail as voicemail_api
from cti.voicemail import pins
from tests.voicemail.helpers import Voicemail


@pytest.mark.parametrize(
    ("pin", "problems"),
    [
        ("123456", ["run"]),  # the default: never acceptable as a new PIN
        ("654321", ["run"]),
        ("890123", ["run"]),  # a run wraps round
        ("210987", ["run"]),
        ("000000", ["allSame"]),
        ("999999", ["allSame"]),
        ("12345", ["length"]),
        ("1234567", ["length"]),
        ("12a456", ["length"]),
        ("١٢٣٤٥٧", ["length"]),  # Arabic-Indic digits are not keys of a phone
        ("", ["length"]),
        ("135790", []),
        ("112233", []),
        ("123457", []),
        ("024680", []),
    ],
)
def test_vm_03_pin_rule_table(pin: str, problems: list[str]) -> None:
    assert pins.pin_problems(pin) == problems


@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_vm_03_a_pin_is_refused_exactly_when_all_same_or_a_run(pin: str) -> None:
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    expected = (["allSame"] if len(set(digits)) == 1 else []) + (
        ["run"] if steps in ({1}, {9}) else []
    )
    assert pins.pin_problems(pin) == expected


@given(st.integers(min_value=0, max_value=40))
def test_vm_03_the_lock_grows_and_is_bounded(failures: int) -> None:
    lock = pins.lock_ms(failures)
    assert lock == 0 if failures < pins.FREE_TRIES else pins.LOCK_MS <= lock <= pins.MAX_LOCK_MS
    assert pins.lock_ms(failures + 1) >= lock


@pytest.fixture
def vm(tmp_path: Path) -> Voicemail:
    return Voicemail(tmp_path)


def test_vm_03_default_pin_opens_the_menu_and_must_be_changed_on_the_phone(
    vm: Voicemail,
) -> None:
    seq = vm.node.state.seq
    call = vm.dialled("331")
    assert vm.events_since(seq)[-1] == f"menuEntered mailbox=331 call={call} device=331"
    seq = vm.node.state.seq
    assert vm.ok("enterVoicemailPin", call=call, device="331", pin="123456") == {
        "open": True,
        "pinChangeRequired": True,
    }
    assert vm.events_since(seq) == [
        f"mailboxOpened mailbox=331 call={call} device=331 pin_change_required=True",
    ]
    # A client may not change it yet, even over TLS with the right old PIN.
    assert (
        vm.error(
            "changeVoicemailPin", principal="331", user="331", oldPin="123456", newPin="135790"
        )
        == "defaultPinNotChanged"
    )
    assert (
        vm.error("changeVoicemailPinOnPhone", call=call, device="331", newPin="111111")
        == "pinPolicy"
    )
    assert vm.error_reply["details"] == {"failed": ["allSame"]}
    seq = vm.node.state.seq
    vm.ok("changeVoicemailPinOnPhone", call=call, device="331", newPin="135790")
    [event] = vm.events_since(seq)
    assert re.fullmatch(
        r"voicemailPinSet mailbox=331 pin_hash=\$argon2id\$\S+ on_phone=True", event
    )
    stored = vm.node.state.voicemail.of("331").pin_hash
    assert stored is not None and passwords.verify_password(stored, "135790")
    assert not any("135790" in line for line in map(str, vm.office.committed()))


def test_vm_03_a_client_changes_the_pin_over_tls_only(vm: Voicemail) -> None:
    call = vm.dialled("331")
    vm.ok("enterVoicemailPin", call=call, device="331", pin="123456")
    vm.ok("changeVoicemailPinOnPhone", call=call, device="331", newPin="135790")
    fields = {"user": "331", "oldPin": "135790", "newPin": "246813"}
    reply = vm.request("changeVoicemailPin", principal="331", secure=False, **fields)
    assert reply["error"]["code"] == "encryptionRequired"
    assert vm.error("changeVoicemailPin", principal="332", **fields) == "notPermitted"
    vm.ok("changeVoicemailPin", principal="331", **fields)
    stored = vm.node.state.voicemail.of("331").pin_hash
    assert stored is not None and passwords.verify_password(stored, "246813")


def test_vm_03_wrong_pins_are_throttled_per_mailbox_and_caller(vm: Voicemail) -> None:
    call = vm.dialled("331")
    now = vm.office.clock.now_ms()
    for failures in (1, 2, 3):
        assert vm.error("enterVoicemailPin", call=call, device="331", pin="000001") == "wrongPin"
        locked = now + pins.lock_ms(failures) if failures >= pins.FREE_TRIES else 0
        assert vm.error_reply["details"] == {"failures": failures, "lockedUntil": locked}
    assert vm.events_since(vm.node.state.seq - 1) == [
        f"pinRejected mailbox=331 caller=331 failures=3 locked_until={now + pins.LOCK_MS}"
    ]
    # Locked: even the right PIN is refused now, and nothing is recorded.
    assert vm.error("enterVoicemailPin", call=call, device="331", pin="123456") == "pinLocked"
    vm.office.clock.advance(pins.LOCK_MS / 1000 - 0.001)
    assert vm.error("enterVoicemailPin", call=call, device="331", pin="123456") == "pinLocked"
    vm.office.clock.advance(0.001)
    assert vm.ok("enterVoicemailPin", call=call, device="331", pin="123456")["open"]
    assert vm.node.state.voicemail.throttle("331", "331").failures == 0


def test_vm_03_a_call_left_for_a_message_is_no_menu(vm: Voicemail) -> None:
    call = vm.deflected("330", "331")
    assert vm.error("enterVoicemailPin", call=call, device="330", pin="123456") == "menuNotOpen"


def test_a_nodes_pin_locks_are_its_own_and_go_with_it(tmp_path: Path) -> None:
    """One lock per mailbox of a node; a node gone takes its locks along (they were kept by
    ``id(node)``, which a later node can get)."""
    first = Voicemail(tmp_path / "a")
    lock = voicemail_api._lock(first.engine, "331")
    assert voicemail_api._lock(first.engine, "331") is lock
    assert voicemail_api._lock(first.engine, "332") is not lock
    assert voicemail_api._lock(Voicemail(tmp_path / "b").engine, "331") is not lock
    gone = weakref.ref(lock)
    del first, lock
    gc.collect()
    assert gone() is None
