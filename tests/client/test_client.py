"""cti.client against a real node: the example office's embedded mosquitto with its accounts
and ACLs, the demo users signing in (specs/client.md, specs/security.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from cti.app.bootstrap import Running, start
from cti.client import (
    Connected,
    CtiClient,
    DeviceEvent,
    DeviceState,
    Disconnected,
    Lamp,
    NotConnected,
    Refused,
    Reset,
    SignInRefused,
    Status,
    Update,
)
from cti.mqtt import certs
from cti.mqtt.broker import free_port
from tests.client.conftest import (
    PASSWORDS,
    client,
    collecting,
    eventually,
    options,
    relay_to,
    url,
)


def events_of(updates: list[Update], device: str) -> list[DeviceEvent]:
    return [u for u in updates if isinstance(u, DeviceEvent) and u.device == device]


# -- signing in -------------------------------------------------------------------------------
async def test_a_demo_user_signs_in_and_a_request_gives_its_result(node: Running) -> None:
    async with client(node, "331") as bernd:
        assert bernd.connected
        made = await bernd.make_call("331", "332")
        assert made == {"call": made["call"], "device": "331"}
        snapshot = await bernd.request("snapshotDevice", device="331")
        assert snapshot == [{"call": made["call"], "state": "connected"}]
        await bernd.clear_connection(made["call"], "331")
        assert await bernd.request("snapshotDevice", device="331") == []
    assert not bernd.connected


@pytest.mark.parametrize(("user", "password"), [("331", "Bernd-2025!"), ("999", "Bernd-2026!")])
async def test_wrong_credentials_are_refused_sign_in(
    node: Running, user: str, password: str
) -> None:
    with pytest.raises(SignInRefused, match=repr(user)):
        async with CtiClient(url(node), user=user, password=password):
            pass


async def test_no_broker_is_not_connected() -> None:
    with pytest.raises(NotConnected, match=r"cannot connect to mqtt://127\.0\.0\.1"):
        async with CtiClient(f"mqtt://127.0.0.1:{free_port()}", user="331", password="x"):
            pass


def test_bad_urls_are_refused_at_once() -> None:
    with pytest.raises(ValueError, match="mqtt://HOST:PORT"):
        CtiClient("http://127.0.0.1", user="331", password="x")
    with pytest.raises(ValueError, match="ca_file is for mqtts://"):
        CtiClient("mqtt://127.0.0.1", user="331", password="x", ca_file="ca.crt")
    with pytest.raises(ValueError, match=r"ca_file /nonexistent/ca\.crt"):
        CtiClient("mqtts://127.0.0.1", user="331", password="x", ca_file="/nonexistent/ca.crt")


# -- refusals ---------------------------------------------------------------------------------
async def test_a_refused_request_raises_refused_with_code_message_and_details(
    node: Running,
) -> None:
    async with client(node, "331") as bernd:
        with pytest.raises(Refused) as info:
            await bernd.make_call("332", "330")  # Clara's phone is not Bernd's
        assert (info.value.code, info.value.message) == ("notYourDevice", "331 may not act as 332")
        assert info.value.details == {"device": "332", "yours": ["331"]}
        with pytest.raises(Refused) as info:
            await bernd.request("makeCal", calling="331", called="332")
        assert info.value.code == "serviceNotSupported" and info.value.details is None
        with pytest.raises(Refused, match="invalidParameterValue: missing field 'called'"):
            await bernd.request("makeCall", calling="331")
        # Over plain MQTT the node will not take a password (USER-02).
        with pytest.raises(Refused) as info:
            await bernd.change_password(PASSWORDS["331"], "Bernd-2027?")
        assert info.value.code == "encryptionRequired"


# -- watching ---------------------------------------------------------------------------------
async def test_watching_an_own_device_gives_a_calls_events_in_order_and_its_state(
    node: Running,
) -> None:
    """CALL-11: Bernd calls Clara, Clara answers, Bernd hangs up; Bernd's client sees every
    event of his phone once, in seq order, and its state following along to idle."""
    async with client(node, "331") as bernd, client(node, "332") as clara:
        async with collecting(bernd) as seen:
            await bernd.watch("331")
            await seen.wait_for(lambda u: isinstance(u, DeviceState) and u.device == "331")
            made = await bernd.make_call("331", "332")
            call = made["call"]
            await seen.wait_for(lambda u: isinstance(u, DeviceEvent) and u.event == "delivered")
            await clara.answer_call(call, "332")
            await seen.wait_for(lambda u: isinstance(u, DeviceEvent) and u.event == "established")
            talking = await seen.wait_for(
                lambda u: isinstance(u, DeviceState) and u.doc["summary"] == "talking-internal"
            )
            await bernd.clear_connection(call, "331")
            cleared = await seen.wait_for(
                lambda u: isinstance(u, DeviceEvent) and u.event == "connectionCleared"
            )
            assert isinstance(cleared, DeviceEvent)
            idle = await seen.wait_for(
                lambda u: isinstance(u, DeviceState) and u.seq >= cleared.seq
            )
        events = events_of(seen.updates, "331")
        assert [(e.event, e.doc["localConnectionInfo"]) for e in events] == [
            ("serviceInitiated", "initiated"),
            ("originated", "connected"),
            ("delivered", "connected"),
            ("established", "connected"),
            ("connectionCleared", "null"),
        ]
        seqs = [e.seq for e in events]
        assert seqs == sorted(set(seqs)) and all(e.call == call for e in events)
        assert not any(e.replayed for e in events)  # all live
        assert isinstance(talking, DeviceState)
        [connection] = talking.doc["connections"]
        assert (connection["peer"], connection["peerName"]) == ("332", "Clara Wolf")
        assert "holdCall" in connection["allowed"]
        assert isinstance(idle, DeviceState)
        assert (idle.doc["summary"], idle.doc["connections"]) == ("idle", [])
        statuses = seen.of(Status)
        assert statuses and statuses[0].online and seen.updates[0] == Connected()


async def test_other_users_devices_deliver_nothing_but_their_lamps(node: Running) -> None:
    """The broker's ACLs (specs/security.md): Bernd may watch Clara's phone all he likes, he
    gets nothing of it but its busy lamp, while his own phone's events of the same call come
    (the positive control), and so do Clara's for Clara."""
    async with (
        client(node, "331") as bernd,
        client(node, "332") as clara,
        collecting(bernd) as bernd_sees,
        collecting(clara) as clara_sees,
    ):
        await bernd.watch("331", "332")
        await bernd.watch_lamps("332")
        await clara.watch("332")
        await clara_sees.wait_for(lambda u: isinstance(u, DeviceState))
        made = await clara.make_call("332", "331")
        await bernd.answer_call(made["call"], "331")
        await clara.clear_connection(made["call"], "332")
        # A later event on Bernd's phone: everything before it has been delivered to him.
        await bernd.request("setDoNotDisturb", device="331", on=True)
        await bernd_sees.wait_for(
            lambda u: isinstance(u, DeviceEvent) and u.event == "doNotDisturb"
        )
        await clara_sees.wait_for(
            lambda u: isinstance(u, DeviceEvent) and u.event == "connectionCleared"
        )
        bernds = [e.event for e in events_of(bernd_sees.updates, "331")]
        assert bernds[:3] == ["delivered", "established", "connectionCleared"], bernds
        assert {e.event for e in events_of(clara_sees.updates, "332")} >= {
            "serviceInitiated",
            "established",
        }
        assert not [
            u
            for u in bernd_sees.updates
            if isinstance(u, DeviceEvent | DeviceState) and u.device == "332"
        ]
        lamps = [u.doc["summary"] for u in bernd_sees.of(Lamp) if u.device == "332"]
        assert "talking-internal" in lamps and lamps[-1] == "idle"
        assert "calling" not in bernd_sees.of(Lamp)[-1].doc  # a lamp has no numbers (CALL-10)


# -- gaps -------------------------------------------------------------------------------------
async def _ring_and_clear(anna: CtiClient) -> int:
    """Anna calls Bernd and hangs up while it rings (events on Bernd's phone); the call."""
    made = await anna.make_call("330", "331")
    await anna.clear_connection(made["call"], "330")
    return made["call"]


def _call_cleared(call: int) -> Callable[[Update], bool]:
    """The call's last event on Bernd's phone: callCleared, after his connectionCleared.
    (Waiting for connectionCleared only raced: the relay cut before callCleared came sent it
    through the gap fill, replayed, and the test saw a replayed event of a live call.)"""

    def check(u: Update) -> bool:
        return isinstance(u, DeviceEvent) and u.call == call and u.event == "callCleared"

    return check


async def test_several_urls_are_the_members_of_a_broker_cluster(node: Running) -> None:
    """``url`` naming several members of one broker cluster (specs/client.md): one that
    cannot be reached is passed over; when the member in use is lost, the client reconnects
    through the next by itself and fills its gap from the log (two relays to the node's
    broker stand in for two members)."""
    broker = node.broker
    assert broker is not None
    dead = free_port()  # nothing listens there
    async with (
        relay_to(broker.host, broker.port) as first,
        relay_to(broker.host, broker.port) as second,
        client(f"mqtt://127.0.0.1:{dead},{first.url}, {second.url}", "331") as bernd,
        client(node, "330") as anna,
        collecting(bernd) as seen,
    ):
        await bernd.watch("331")
        await seen.wait_for(lambda u: isinstance(u, DeviceState))
        mark = len(seen.updates)
        await first.cut()  # the member in use: the connection drops, first refuses
        await seen.wait_for(lambda u: isinstance(u, Disconnected), start=mark)
        away = await _ring_and_clear(anna)
        await seen.wait_for(lambda u: isinstance(u, Connected), start=mark)
        await seen.wait_for(_call_cleared(away), start=mark)
        made = await bernd.make_call("331", "332")  # through the second member
        await bernd.clear_connection(made["call"], "331")


def test_the_members_of_a_cluster_share_a_scheme() -> None:
    with pytest.raises(ValueError, match="share a scheme"):
        CtiClient("mqtt://b1:1883,mqtts://b2:8883", user="331", password="x")
    with pytest.raises(ValueError, match="must look like"):
        CtiClient("mqtt://b1:1883,", user="331", password="x")


async def test_a_lost_connection_is_filled_from_the_log_every_event_once_in_order(
    node: Running,
) -> None:
    """Bernd's client loses its connection (the relay in front of the broker is cut) while
    calls ring at his phone; when it is back, what it missed comes from the log, before the
    live events that came meanwhile, each once, in seq order: exactly what the monitor
    account, connected all along, received live on Bernd's event topic."""
    broker = node.broker
    assert broker is not None
    async with (
        relay_to(broker.host, broker.port) as relay,
        client(relay.url, "331") as bernd,
        client(node, "330") as anna,
        client(node, "monitor") as monitor,
        collecting(bernd) as seen,
        collecting(monitor) as truth,
    ):
        await monitor.watch("331")
        await bernd.watch("331")
        await seen.wait_for(lambda u: isinstance(u, DeviceState))
        await truth.wait_for(lambda u: isinstance(u, DeviceState))
        first = await _ring_and_clear(anna)  # live
        await seen.wait_for(_call_cleared(first))

        await relay.cut()
        await seen.wait_for(lambda u: isinstance(u, Disconnected))
        with pytest.raises(NotConnected):
            await bernd.make_call("331", "332")
        away = [await _ring_and_clear(anna) for _ in range(3)]  # while Bernd's is away
        # Not Bernd's: in the log, not in his stream.
        await anna.request(
            "setForwarding", device="330", forwardingType="forwardBusy", on=True, destination="332"
        )
        mark = len(seen.updates)
        await relay.restore()
        await seen.wait_for(lambda u: isinstance(u, Connected), start=mark)
        # The gap filled before the next call: a replay may hold events the node has logged
        # but not yet published, which would then come replayed, not live.
        await seen.wait_for(_call_cleared(away[-1]), start=mark)
        last = await _ring_and_clear(anna)  # live again
        await truth.wait_for(_call_cleared(last))
        await seen.wait_for(_call_cleared(last))

    expected = events_of(truth.updates, "331")
    got = events_of(seen.updates, "331")
    assert [e.seq for e in got] == [e.seq for e in expected]  # each once, in order
    assert [e.doc for e in got] == [e.doc for e in expected]  # replayed = published
    # What was filled from the log is exactly the calls of the outage.
    assert [e for e in got if e.replayed] == [
        attrs.evolve(e, replayed=True) for e in expected if e.call in away
    ]
    assert {e.call for e in got} == {first, *away, last}
    assert all(not e.replayed for e in expected)


# -- TLS and the password ---------------------------------------------------------------------
async def test_tls_with_the_nodes_ca_and_changing_the_password(
    node: Running, tmp_path: Path
) -> None:
    """USER-02: over mqtts:// (verified against the CA the node made) requests go to the
    secure topic, so the node takes a password change; the client signs in with the new
    password when it reconnects."""
    broker = node.broker
    assert broker is not None and broker.tls is not None
    ca = node.log_path.parent / "tls" / "ca.crt"  # made at the first start
    assert ca.exists()
    old, new = PASSWORDS["333"], "Dieter-2027?"
    async with (
        relay_to(broker.tls.host, broker.tls.port) as relay,
        CtiClient(
            relay.url.replace("mqtt://", "mqtts://"), user="333", password=old, ca_file=ca
        ) as dieter,
        collecting(dieter) as seen,
    ):
        assert dieter.secure
        assert await dieter.request("snapshotDevice", device="333") == []
        await dieter.change_password(old, new)

        async def new_password_works() -> bool:
            try:
                async with CtiClient(url(node), user="333", password=new):
                    return True
            except SignInRefused:
                return False

        await eventually(new_password_works)  # the broker reloaded its password file
        with pytest.raises(SignInRefused):
            async with CtiClient(url(node), user="333", password=old):
                pass
        await relay.cut()
        await seen.wait_for(lambda u: isinstance(u, Disconnected))
        mark = len(seen.updates)
        await relay.restore()
        await seen.wait_for(lambda u: isinstance(u, Connected), start=mark)
        assert await dieter.request("getDoNotDisturb", device="333") == {"on": False}

    # Another CA does not vouch for this broker: no connection, and it says why.
    other = certs.ensure(tmp_path / "other", "elsewhere")
    with pytest.raises(NotConnected, match="CERTIFICATE_VERIFY_FAILED"):
        async with CtiClient(url(node, tls=True), user="333", password=new, ca_file=other.ca):
            pass


async def test_a_new_log_behind_the_same_address_is_a_reset(node: Running, tmp_path: Path) -> None:
    """The node's log is recreated (another epoch): the client says Reset, forgets what it
    had seen and takes the new log's states and events, although their seqs are lower."""
    broker = node.broker
    assert broker is not None
    async with (
        relay_to(broker.host, broker.port) as relay,
        client(relay.url, "331") as bernd,
        collecting(bernd) as seen,
    ):
        await bernd.watch("331")
        async with client(node, "330") as anna:
            before = await _ring_and_clear(anna)
        await seen.wait_for(_call_cleared(before))
        old_state = seen.of(DeviceState)[-1]
        old_last = events_of(seen.updates, "331")[-1].seq
        await relay.cut()
        await seen.wait_for(lambda u: isinstance(u, Disconnected))

        other = await start(options(tmp_path / "other"))  # a new log: a new epoch
        try:
            assert other.broker is not None and other.store.epoch != node.store.epoch
            relay.target = (other.broker.host, other.broker.port)
            mark = len(seen.updates)
            await relay.restore()
            reset = await seen.wait_for(lambda u: isinstance(u, Reset), start=mark)
            assert reset == Reset(other.store.epoch, node.store.epoch)
            state = await seen.wait_for(lambda u: isinstance(u, DeviceState), start=mark)
            assert isinstance(state, DeviceState) and state.seq <= old_state.seq
            assert seen.updates.index(reset) < seen.updates.index(state)
            async with client(url(other), "330") as anna:
                after = await _ring_and_clear(anna)
            cleared = await seen.wait_for(_call_cleared(after), start=mark)
            assert isinstance(cleared, DeviceEvent)
            assert cleared.seq <= old_last  # not newer than seen before, still delivered
        finally:
            await other.stop()


async def test_a_reconnect_refused_for_a_changed_password_ends_the_updates(
    node: Running,
) -> None:
    """An administrator sets Dieter's password while his client is connected; when it
    loses the connection, the broker refuses it the old one: the client gives up and says
    why (updates() and requests raise SignInRefused) instead of retrying for ever."""
    broker = node.broker
    assert broker is not None
    async with (
        relay_to(broker.host, broker.port) as relay,
        client(relay.url, "333") as dieter,
        collecting(dieter) as seen,
    ):
        async with client(node, "330") as anna:
            await anna.request("setPassword", name="333", password="Reset-2026!")

        async def old_password_refused() -> bool:
            try:
                async with client(node, "333"):
                    return False
            except SignInRefused:
                return True

        await eventually(old_password_refused)  # the broker reloaded its password file
        await relay.cut()
        await seen.wait_for(lambda u: isinstance(u, Disconnected))
        await relay.restore()
        assert isinstance(await seen.ended(), SignInRefused)
        with pytest.raises(SignInRefused):
            await dieter.request("snapshotDevice", device="333")


# -- directories ------------------------------------------------------------------------------
async def test_the_directory_helpers_import_search_and_identify(node: Running) -> None:
    """DIR-01/04/06 through cti.client: a Windows-1252 file imported, found while typing,
    a caller named; a file that cannot be read raises Refused unusableFile."""
    async with client(node, "332") as clara:
        data = "Name;Firma;Mobil\nJörg Müller;Bäckerei;0171 4000001\n".encode("cp1252")
        report = await clara.import_contacts(data, encoding="windows-1252")
        assert (report["added"], report["rejected"], report["delimiter"]) == (1, 0, ";")
        found = await clara.search_directory("mü")
        assert found["counts"]["personal"] == 1
        assert [h["name"] for h in found["hits"]][:1] == ["Jörg Müller"]
        assert await clara.add_contact("Anna", mobile="0171 4000002") == 2
        assert await clara.identify_caller("+491714000002") == "Anna"
        assert await clara.identify_caller("+491714999999") is None
        with pytest.raises(Refused) as info:
            await clara.import_contacts(data)  # not UTF-8
        assert info.value.code == "unusableFile"
        # A file of more than one request's 1 MiB goes in parts, by itself.
        rows = "".join(f"Kontakt {i};ACME;0171 {5_000_000 + i}\n" for i in range(40_000))
        big = ("Name;Firma;Mobil\n" + rows).encode()
        assert len(big) > 1024 * 1024
        report = await clara.import_contacts(big)
        assert (report["added"], report["rejected"]) == (40_000, 0)


async def test_a_shared_broker_account_watches_its_journal_under_its_own_name() -> None:
    """Signed in as NAME@NODE, the topics carry NAME (specs/security.md, many sites)."""
    client = CtiClient("mqtt://127.0.0.1:1", user="331@branch", password="x", node="branch")
    await client.watch_journal()
    assert client._documents == {"cti/branch/users/331/journal"}
