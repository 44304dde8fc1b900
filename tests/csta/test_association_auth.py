"""CSTA associations authenticate against the node's accounts (specs/csta.md "Association and
authentication", specs/security.md "CSTA"), over real TCP: an account's password (argon2) or
the [csta] account; what the association may then do is what its account may do; failures
from one address are answered ever later (the throttle runs on the node's manual clock, so
nothing here waits for it in real time)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import attrs
import pytest
import structlog

from cti.accounts.commands import AccountSeed, SeedAccounts, UpdateAccount
from cti.accounts.model import Role
from cti.app.clock import ManualClock
from cti.app.config.users import UserSpec
from cti.calls import commands as c
from cti.csta import codec
from cti.csta.client import AssociationRefused, CstaClient, CstaRefused
from cti.csta.ids import connection, device_id
from cti.csta.link.throttle import Throttle
from cti.csta.refusals import ERROR_TABLE
from tests.csta.conftest import SETTINGS, TIMEOUT, Link, Raw
from tests.waiting import until

PASSWORDS = {
    "331": "Bernd-2026!",  # user: acts as 331
    "332": "Clara-2026!",  # user: acts as 332
    "333": "Dieter-2026!",  # user whose password an administrator set (must change it)
    "monitor": "Monitor-2026!",  # reads everything, changes nothing
    "bridge": "Bridge-2026!",  # integrator
}
AUTHENTICATION_FAILURE = ("acse-service-user", 13)


@functools.cache
def _seeds() -> tuple[AccountSeed, ...]:
    """The accounts of these tests, hashed once (argon2 is slow on purpose)."""

    def spec(name: str, role: Role, must_change: bool = False) -> UserSpec:
        devices = (name,) if role is Role.USER else ()
        password = PASSWORDS.get(name)  # None: no password yet, cannot sign in
        return UserSpec(name, name, role, devices, frozenset(), password, must_change)

    specs = [
        spec("331", Role.USER),
        spec("332", Role.USER),
        spec("333", Role.USER, must_change=True),
        spec("monitor", Role.MONITOR),
        spec("bridge", Role.INTEGRATOR),
        spec("335", Role.USER),  # no password
    ]
    return tuple(s.seed() for s in specs)


async def seed(link: Link) -> None:
    assert (await link.engine.execute(SeedAccounts(accounts=_seeds()))).ok


def client(link: Link, user: str, password: str | None = None) -> CstaClient:
    return link.client(user=user, password=PASSWORDS[user] if password is None else password)


async def aare_of(raw: Raw, user: str, password: str) -> dict[str, Any]:
    raw.send(codec.encode_acse(codec.aarq(user, password)))
    kind, body = codec.decode_acse(await raw.frame())
    assert kind == "aare"
    return body


def refusals(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "csta.association_refused"]


def make_call(calling: str, called: str) -> dict[str, Any]:
    return {
        "callingDevice": device_id(calling),
        "calledDirectoryNumber": device_id(called),
    }


# -- who may associate --------------------------------------------------------------------------
async def test_an_account_associates_with_its_password_and_acts_as_itself(link: Link) -> None:
    await seed(link)
    with structlog.testing.capture_logs() as logs:
        async with client(link, "331") as app:
            (session,) = link.server.sessions
            assert (session.principal, session.services.principal) == ("331", "331")
            result = await app.invoke("makeCall", make_call("331", "332"))
            assert result["callingDevice"] == connection(1, "331")
    assert [e["principal"] for e in logs if e["event"] == "csta.associated"] == ["331"]
    assert PASSWORDS["331"] not in repr(logs)


async def test_the_csta_account_still_associates_and_acts_for_every_device(link: Link) -> None:
    await seed(link)
    async with link.client() as app:  # [csta] user "cti", password "secret"
        (session,) = link.server.sessions
        assert session.principal is None  # the integrator: no account check
        await app.invoke("makeCall", make_call("330", "331"))
        await app.invoke("makeCall", make_call("332", "333"))
        await app.invoke("setDoNotDisturb", {"device": device_id("335"), "doNotDisturbOn": True})


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [
        ("331", "Bernd-2027!", "wrongPassword"),
        ("331", PASSWORDS["332"], "wrongPassword"),  # another account's password
        ("nobody", PASSWORDS["331"], "unknownUser"),
        ("335", "Eva-2026!", "noPassword"),  # an account without a password
        ("333", PASSWORDS["333"], "passwordChangeRequired"),  # right, but must change first
        ("cti", PASSWORDS["331"], "unknownUser"),  # the [csta] user with another password
        ("bridge", SETTINGS.password, "wrongPassword"),  # an account with the [csta] password
    ],
)
async def test_refused_association_says_authentication_failure(
    link: Link, user: str, password: str, reason: str
) -> None:
    await seed(link)
    seq = link.node.state.seq
    with structlog.testing.capture_logs() as logs:
        raw = await Raw.connect(link.port)
        raw.send(codec.encode_acse(codec.aarq(user, password)))
        frames = await raw.eof()
    assert len(frames) == 1
    kind, body = codec.decode_acse(frames[0])
    assert (kind, body["result"]) == ("aare", 1)  # rejected-permanent
    assert body["result-source-diagnostic"] == AUTHENTICATION_FAILURE
    (entry,) = refusals(logs)
    assert entry["reason"] == reason
    assert (entry["user"], entry["address"], entry["delay"]) == (user, "127.0.0.1", 0)
    if reason == "passwordChangeRequired":
        assert "changePassword" in entry["hint"]
    assert password not in repr(logs)  # never the password
    assert not any(e["event"] == "csta.associated" for e in logs)
    assert link.node.state.seq == seq


async def test_the_client_sees_the_refusal(link: Link) -> None:
    await seed(link)
    with pytest.raises(AssociationRefused) as refused:
        await client(link, "333").associate()  # must change the password first
    assert refused.value.diagnostic == AUTHENTICATION_FAILURE


# -- what an association may do: its account's rights -------------------------------------------
async def test_a_user_acts_for_their_own_devices_only(link: Link) -> None:
    await seed(link)
    async with client(link, "331") as app, client(link, "332") as other:
        seq = link.node.state.seq
        for operation, argument in [
            ("makeCall", make_call("332", "330")),
            ("setDoNotDisturb", {"device": device_id("332"), "doNotDisturbOn": True}),
            ("snapshotDevice", {"snapshotObject": device_id("332")}),
            ("getForwarding", {"device": device_id("332")}),
            ("monitorStart", {"monitorObject": ("deviceObject", device_id("332"))}),
        ]:
            with pytest.raises(CstaRefused) as refused:
                await app.invoke(operation, argument)
            assert refused.value.value == "privilegeViolationSpecifiedDevice", operation
            assert refused.value.branch == "operation"
        assert link.node.state.seq == seq  # a refusal changes nothing
        # Their own device: allowed, monitor included.
        xref = await app.monitor_start("331")
        made = await app.invoke("makeCall", make_call("331", "332"))
        assert made["callingDevice"] == connection(1, "331")
        report = await app.next_event(TIMEOUT)
        assert (report.xref, report.name) == (xref, "serviceInitiated")
        # The other party's phone is not theirs to answer; its user may.
        answer = {"callToBeAnswered": connection(1, "332")}
        with pytest.raises(CstaRefused) as refused:
            await app.invoke("answerCall", answer)
        assert refused.value.value == "privilegeViolationSpecifiedDevice"
        await other.invoke("answerCall", answer)
        # A call they are in: theirs to look at and to clear.
        snapshot = await app.invoke("snapshotCall", {"snapshotObject": connection(1)})
        assert snapshot["crossRefIDorSnapshotData"][0] == "snapshotData"
        await app.invoke("clearCall", {"callToBeCleared": connection(1)})


async def test_a_user_monitors_and_reads_only_their_own_calls_and_devices(link: Link) -> None:
    """Issue 20 item 6: call monitors, getDoNotDisturb, setDisplay and generateDigits are
    authorized like snapshotCall / snapshotDevice."""
    await seed(link)
    assert (await link.engine.execute(c.MakeCall(calling="330", called="332"))).ok
    async with client(link, "331") as app:
        seq = link.node.state.seq
        for operation, argument in [
            ("monitorStart", {"monitorObject": ("callObject", connection(1))}),
            ("getDoNotDisturb", {"device": device_id("332")}),
            ("setDisplay", {"device": device_id("332"), "contentsOfDisplay": "x"}),
            (
                "generateDigits",
                {"connectionToSendDigits": connection(1, "330"), "charactersToSend": "1"},
            ),
        ]:
            with pytest.raises(CstaRefused) as refused:
                await app.invoke(operation, argument)
            assert (refused.value.branch, refused.value.value) == (
                "operation",
                "privilegeViolationSpecifiedDevice",
            ), operation
        assert link.node.state.seq == seq
        assert await app.invoke("getDoNotDisturb", {"device": device_id("331")}) == {
            "doNotDisturbOn": False
        }
        assert (await link.engine.execute(c.MakeCall(calling="331", called="334"))).ok
        started = await app.invoke("monitorStart", {"monitorObject": ("callObject", connection(2))})
        assert started["crossRefIdentifier"]


async def test_a_monitor_account_reads_everything_and_changes_nothing(link: Link) -> None:
    await seed(link)
    async with client(link, "monitor") as app:
        await app.monitor_start("330")
        await app.monitor_start("332")
        rows = await app.invoke("snapshotDevice", {"snapshotObject": device_id("332")})
        assert rows["crossRefIDorSnapshotData"] == ("snapshotData", [])
        await app.invoke("getForwarding", {"device": device_id("330")})
        seq = link.node.state.seq
        with pytest.raises(CstaRefused) as refused:
            await app.invoke("makeCall", make_call("330", "331"))
        assert (refused.value.branch, refused.value.value) == ("operation", "securityViolation")
        assert link.node.state.seq == seq


async def test_an_integrator_account_acts_for_every_device(link: Link) -> None:
    await seed(link)
    async with client(link, "bridge") as app:
        await app.monitor_start("332")
        await app.invoke("makeCall", make_call("332", "331"))
        await app.invoke("setDoNotDisturb", {"device": device_id("333"), "doNotDisturbOn": True})


async def test_each_service_is_authorized_against_the_account_as_it_is_then(
    link: Link,
) -> None:
    """An administrator who takes phone 331 from the account stops what the association may
    do with it at its next invoke (a new password or a removal ends the association:
    tests/csta/test_monitor_rights.py)."""
    await seed(link)
    async with client(link, "331") as app:
        await app.invoke("makeCall", make_call("331", "332"))
        assert (await link.engine.execute(UpdateAccount(name="331", devices=("334",)))).ok
        with pytest.raises(CstaRefused) as refused:
            await app.invoke("makeCall", make_call("331", "330"))
        assert (refused.value.branch, refused.value.value) == (
            "operation",
            "privilegeViolationSpecifiedDevice",
        )
        await app.invoke("makeCall", make_call("334", "330"))


@pytest.mark.parametrize(
    ("refusal", "failure"),
    [
        ("notYourDevice", ("operation", "privilegeViolationSpecifiedDevice")),
        ("notPermitted", ("operation", "securityViolation")),
        ("passwordChangeRequired", ("operation", "securityViolation")),
        ("notLicensed", ("operation", "serviceNotSupported")),
    ],
)
def test_access_refusals_map_to_csta_errors(refusal: str, failure: tuple[str, str]) -> None:
    assert ERROR_TABLE[refusal] == failure


# -- the throttle: pure, on an injected clock ---------------------------------------------------
def test_delays_grow_from_the_second_failure_and_are_capped() -> None:
    clock = ManualClock()
    throttle = Throttle(clock)
    delays = []
    for _ in range(9):
        delays.append(throttle.failed("192.0.2.1"))
        clock.advance(delays[-1] / 1000)
    assert delays == [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
    assert throttle.failures("192.0.2.1") == 9


def test_a_failure_holds_the_address_until_its_delay_has_passed() -> None:
    clock = ManualClock()
    throttle = Throttle(clock)
    start = clock.now_ms()
    assert throttle.not_before_ms("192.0.2.1") == 0
    throttle.failed("192.0.2.1")
    assert throttle.not_before_ms("192.0.2.1") == start  # the first one is free
    clock.advance(0.5)
    assert throttle.failed("192.0.2.1") == 1000
    assert throttle.not_before_ms("192.0.2.1") == start + 1500
    assert throttle.not_before_ms("192.0.2.2") == 0  # other addresses are not concerned


def test_a_success_resets_the_address_only() -> None:
    clock = ManualClock()
    throttle = Throttle(clock)
    for _ in range(4):
        throttle.failed("192.0.2.1")
        throttle.failed("192.0.2.2")
    throttle.succeeded("192.0.2.1")
    assert throttle.failures("192.0.2.1") == 0
    assert throttle.not_before_ms("192.0.2.1") == 0
    assert throttle.failed("192.0.2.1") == 0
    assert throttle.failed("192.0.2.2") == 8000  # its fifth


def test_a_quiet_period_resets_the_address() -> None:
    clock = ManualClock()
    throttle = Throttle(clock, quiet=300)
    for _ in range(5):
        throttle.failed("192.0.2.1")
    clock.advance(299.999)
    assert throttle.failures("192.0.2.1") == 5
    clock.advance(0.001)
    assert throttle.failures("192.0.2.1") == 0
    assert throttle.failed("192.0.2.1") == 0
    assert throttle.failed("192.0.2.1") == 1000


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    clock = ManualClock()
    throttle = Throttle(clock, max_addresses=3)
    for n in range(5):
        throttle.failed(f"192.0.2.{n}")
        throttle.failed(f"192.0.2.{n}")
    assert len(throttle) == 3
    assert [throttle.failures(f"192.0.2.{n}") for n in range(5)] == [0, 0, 2, 2, 2]


def test_throttle_settings_are_checked() -> None:
    clock = ManualClock()
    for bad in ({"first": 0}, {"cap": 0.5}, {"quiet": 10}, {"free": -1}, {"max_addresses": 0}):
        with pytest.raises(ValueError):
            Throttle(clock, **bad)  # type: ignore[arg-type]
    assert Throttle(clock, free=0).delay_ms(1) == 1000
    assert Throttle(clock).delay_ms(10_000) == 30000  # no overflow, however many


# -- the throttle on the link -------------------------------------------------------------------
async def test_failures_from_one_address_are_answered_later_until_a_success(link: Link) -> None:
    await seed(link)
    clock = link.clock
    with structlog.testing.capture_logs() as logs:
        # The first failure is answered at once.
        first = await Raw.connect(link.port)
        assert (await aare_of(first, "331", "wrong-1"))["result"] == 1
        # The second is logged at once, answered only after a second of the node's clock.
        second = await Raw.connect(link.port)
        second.send(codec.encode_acse(codec.aarq("331", "wrong-2")))
        await until(lambda: len(refusals(logs)) == 2)
        entry = refusals(logs)[1]
        assert (entry["address"], entry["user"], entry["failures"], entry["delay"]) == (
            "127.0.0.1",
            "331",
            2,
            1.0,
        )
        with pytest.raises(TimeoutError):
            await second.frame(timeout=0.2)
        # Meanwhile an association from the same address waits, even with the right password.
        right = client(link, "331")
        associating = asyncio.ensure_future(right.associate())
        clock.advance(0.999)
        with pytest.raises(TimeoutError):
            await second.frame(timeout=0.2)
        assert not associating.done()
        clock.advance(0.001)
        kind, body = codec.decode_acse(await second.frame())
        assert (kind, body["result"], body["result-source-diagnostic"]) == (
            "aare",
            1,
            AUTHENTICATION_FAILURE,
        )
        await asyncio.wait_for(associating, TIMEOUT)  # then it is checked: accepted
        await right.close()
        # The success forgot the failures: the next one is answered at once again.
        third = await Raw.connect(link.port)
        assert (await aare_of(third, "331", "wrong-3"))["result"] == 1
    assert [e["delay"] for e in refusals(logs)] == [0, 1.0, 0]
    assert not any(p in repr(logs) for p in ("wrong-1", "wrong-2", "wrong-3", PASSWORDS["331"]))
    for raw in (first, second, third):
        raw.close()


async def test_the_delay_doubles_with_each_failure(link: Link) -> None:
    await seed(link)
    clock = link.clock
    with structlog.testing.capture_logs() as logs:
        for n, delay in enumerate([0, 1.0, 2.0, 4.0], 1):
            raw = await Raw.connect(link.port)
            raw.send(codec.encode_acse(codec.aarq("nobody", f"guess-{n}")))
            await until(lambda n=n: len(refusals(logs)) == n)
            assert refusals(logs)[-1]["delay"] == delay
            if delay:
                clock.advance(delay - 0.001)
                with pytest.raises(TimeoutError):
                    await raw.frame(timeout=0.1)
                clock.advance(0.001)
            assert codec.decode_acse(await raw.frame())[1]["result"] == 1
            raw.close()


async def test_a_waiting_association_gives_up_at_the_associate_deadline(link: Link) -> None:
    """Queued behind an address's penalty, an AARQ still has only ``associate_timeout``."""
    await seed(link)
    link.server.limits = attrs.evolve(link.server.limits, associate_timeout=0.3)
    link.server.throttle.failed("127.0.0.1")
    link.server.throttle.failed("127.0.0.1")  # held for a second of the node's clock
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("331", PASSWORDS["331"])))
    (frame,) = await raw.eof()
    kind, body = codec.decode_acse(frame)
    assert (kind, body["abort-source"]) == ("abrt", 1)
    raw.close()


async def test_parallel_guesses_from_one_address_are_checked_one_after_another(
    link: Link,
) -> None:
    """Opening many connections at once does not multiply the guesses: an address's next
    AARQ is checked only once the previous failure has been answered."""
    await seed(link)
    clock = link.clock
    link.server.throttle.failed("127.0.0.1")  # a first failure: the next one costs a second
    with structlog.testing.capture_logs() as logs:
        raws = [await Raw.connect(link.port) for _ in range(3)]
        for n, raw in enumerate(raws):
            raw.send(codec.encode_acse(codec.aarq("331", f"guess-{n}")))
        await until(lambda: len(refusals(logs)) == 1)
        await asyncio.sleep(0.3)  # time enough for the others to be checked, were they
        assert len(refusals(logs)) == 1
        clock.advance(1)
        await until(lambda: len(refusals(logs)) == 2)
        await asyncio.sleep(0.3)
        assert len(refusals(logs)) == 2
        clock.advance(2)
        await until(lambda: len(refusals(logs)) == 3)
        clock.advance(4)
    assert [e["delay"] for e in refusals(logs)] == [1.0, 2.0, 4.0]
    for raw in raws:
        kind, body = codec.decode_acse(await raw.frame())
        assert (kind, body["result"]) == ("aare", 1)
        raw.close()
