"""The association and the robustness of the CSTA link, over real TCP: each hostile input is
answered as X.227 (ACSE) / X.880 (ROSE) prescribe, and only its own connection suffers."""

from __future__ import annotations

import asyncio
import socket

from cti.app.config import CstaSettings
from cti.csta import codec
from cti.csta.client import AssociationRefused, CstaClient, CstaRefused
from cti.csta.codec.framing import FrameDecoder, encode_frame
from cti.csta.ids import device_id
from cti.csta.link.server import Limits
from tests.csta.conftest import (
    SETTINGS,
    SNAPSHOT_330,
    TIMEOUT,
    Link,
    LinkFactory,
    Raw,
    abrt_of,
    assert_serving,
    associated,
)


# -- association --------------------------------------------------------------------------------
async def test_associate_then_switch_sends_system_status(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
    kind, body = codec.decode_acse(await raw.frame())
    assert kind == "aare" and body["result"] == 0
    assert body["aSO-context-name"] == codec.CSTA_CONTEXT
    status = await raw.rose()
    assert isinstance(status, codec.Invoke)
    assert (status.opcode, status.argument) == ("systemStatus", {"systemStatus": "normal"})
    raw.send(
        codec.encode_rose(codec.ReturnResult(status.invoke_id, "systemStatus", ("noData", None)))
    )
    session = next(iter(link.server.sessions))
    await asyncio.wait_for(session.status_acknowledged.wait(), TIMEOUT)
    raw.close()


async def test_wrong_password_is_rejected_permanent_and_closed(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", "wrong")))
    frames = await raw.eof()
    kind, body = codec.decode_acse(frames[0])
    assert kind == "aare" and body["result"] == 1  # rejected-permanent
    assert body["result-source-diagnostic"] == ("acse-service-user", 13)  # authentication-failure
    assert len(frames) == 1
    await assert_serving(link)


async def test_client_reports_refused_association(link: Link) -> None:
    client = link.client(password="nope")
    try:
        await client.associate()
    except AssociationRefused as exc:
        assert exc.diagnostic == ("acse-service-user", 13)  # the wire AARE, unchanged
        # ... read for people (issue 18 item 9)
        assert exc.reason == "authentication failed"
        assert str(exc).startswith("association refused: authentication failed (")
    else:  # pragma: no cover
        raise AssertionError("association accepted with a wrong password")


async def test_wrong_application_context_is_rejected(link: Link) -> None:
    raw = await Raw.connect(link.port)
    kind, body = codec.aarq("cti", SETTINGS.password)
    raw.send(codec.encode_acse((kind, {**body, "aSO-context-name": "1.3.12.0.285"})))
    frames = await raw.eof()
    kind, body = codec.decode_acse(frames[0])
    assert kind == "aare" and body["result"] == 1
    # application-context-name-not-supported
    assert body["result-source-diagnostic"] == ("acse-service-user", 2)
    await assert_serving(link)


async def test_aarq_without_credentials_is_rejected(link: Link) -> None:
    raw = await Raw.connect(link.port)
    kind, body = codec.aarq("cti", SETTINGS.password)
    del body["calling-authentication-value"]
    raw.send(codec.encode_acse((kind, body)))
    frames = await raw.eof()
    assert codec.decode_acse(frames[0])[1]["result-source-diagnostic"] == (
        "acse-service-user",
        14,  # authentication-required
    )


async def test_invoke_before_association_is_aborted(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_rose(codec.Invoke(1, "snapshotDevice", SNAPSHOT_330)))
    frames = await raw.eof()
    assert abrt_of(frames[0])["abort-diagnostic"] == "protocol-error"
    await assert_serving(link)


async def test_abort_reaches_a_peer_that_keeps_sending(link: Link) -> None:
    """The ABRT must not be destroyed by a RST: the server half-closes and drops the rest of
    what the peer sends instead of closing with unread bytes in its socket."""
    raw = await Raw.connect(link.port)
    invoke = codec.encode_rose(codec.Invoke(1, "snapshotDevice", SNAPSHOT_330))
    raw.send_raw(encode_frame(invoke) + b"\x26\x80\x02\xa1\x00" * 100_000)  # 500 kB behind it
    frames = await raw.eof()
    assert abrt_of(frames[0])["abort-diagnostic"] == "protocol-error"
    await assert_serving(link)


async def test_second_aarq_is_aborted(link: Link) -> None:
    raw = await associated(link)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
    frames = await raw.eof()
    assert abrt_of(frames[-1])["abort-source"] == 1


async def test_release_answers_rlre_and_closes(link: Link) -> None:
    raw = await associated(link)
    raw.send(codec.encode_acse(("rlrq", {"reason": 0})))
    frames = await raw.eof()
    assert [codec.decode_acse(f)[0] for f in frames] == ["rlre"]


async def test_client_release(link: Link) -> None:
    client = link.client()
    await client.associate()
    await client.release()
    assert client.closed.is_set()
    await _wait(lambda: not link.server.sessions)


async def test_abort_from_the_application_closes(link: Link) -> None:
    raw = await associated(link)
    raw.send(codec.encode_acse(("abrt", {"abort-source": 0})))
    assert await raw.eof() == []
    await assert_serving(link)


async def test_silent_peer_is_aborted_after_the_associate_timeout(make_link: LinkFactory) -> None:
    async with make_link(Limits(associate_timeout=0.05)) as link:
        raw = await Raw.connect(link.port)
        frames = await raw.eof()
        assert abrt_of(frames[0])["abort-source"] == 1


async def test_length2_framing(make_link: LinkFactory) -> None:
    settings = CstaSettings(password=SETTINGS.password, port=0, framing="length2")
    async with (
        make_link(settings=settings) as link,
        CstaClient("127.0.0.1", link.port, password=SETTINGS.password, framing="length2") as client,
    ):
        await client.invoke("snapshotDevice", SNAPSHOT_330)


# -- robustness: framing --------------------------------------------------------------------------
async def test_truncated_frame_waits_for_the_rest(link: Link) -> None:
    raw = await associated(link)
    frame = codec.encode_rose(codec.Invoke(7, "snapshotDevice", SNAPSHOT_330))
    data = bytes((0x26, 0x80 | len(frame) >> 8, len(frame) & 0xFF)) + frame
    raw.send_raw(data[:5])
    await raw.writer.drain()
    await assert_serving(link)  # meanwhile the server serves others
    raw.send_raw(data[5:])
    reply = await raw.rose()
    assert isinstance(reply, codec.ReturnResult) and reply.invoke_id == 7


async def test_truncated_frame_then_eof_closes(link: Link) -> None:
    raw = await associated(link)
    raw.send_raw(b"\x26\x80\x20\xa1\x05")
    raw.writer.write_eof()
    assert await raw.eof() == []
    await _wait(lambda: not link.server.sessions)
    await assert_serving(link)


async def test_wrong_header_byte_aborts(link: Link) -> None:
    raw = await associated(link)
    raw.send_raw(b"\x27\x80\x03\x01\x02\x03")
    frames = await raw.eof()
    assert abrt_of(frames[-1])["abort-diagnostic"] == "protocol-error"
    await assert_serving(link)


async def test_oversized_length_aborts(make_link: LinkFactory) -> None:
    async with make_link(Limits(max_frame=1024)) as link:
        raw = await associated(link)
        raw.send_raw(b"\x26\x87\xff")  # 2047 bytes announced
        frames = await raw.eof()
        assert abrt_of(frames[-1])["abort-diagnostic"] == "protocol-error"
        await assert_serving(link)


# -- robustness: ROSE -----------------------------------------------------------------------------
async def test_garbage_ber_is_rejected_and_the_association_goes_on(link: Link) -> None:
    raw = await associated(link)
    raw.send(b"\xa1\x05\xff\xff\xff")
    assert await raw.rose() == codec.Reject(None, ("general", "badlyStructuredPDU"))
    raw.send(b"\x30\x00")  # not a ROSE APDU at all
    assert await raw.rose() == codec.Reject(None, ("general", "unrecognizedPDU"))
    raw.send(codec.encode_rose(codec.Invoke(2, "snapshotDevice", SNAPSHOT_330)))
    assert isinstance(await raw.rose(), codec.ReturnResult)


async def test_unknown_opcode_is_rejected(link: Link) -> None:
    raw = await associated(link)
    pdu = (
        "invoke",
        {"invokeId": ("present", 5), "opcode": ("local", 999), "argument": b"\x30\x00"},
    )
    raw.send(codec.encode("ROS", pdu))
    assert await raw.rose() == codec.Reject(5, ("invoke", "unrecognizedOperation"))


async def test_event_report_invoked_by_the_application_is_rejected(link: Link) -> None:
    raw = await associated(link)
    report = {
        "crossRefIdentifier": b"\x00\x00\x00\x01",
        "eventSpecificInfo": (
            "logicalDeviceFeatureEvents",
            (
                "doNotDisturb",
                {"device": ("deviceIdentifier", device_id("330")), "doNotDisturbOn": True},
            ),
        ),
    }
    raw.send(codec.encode_rose(codec.Invoke(6, "cSTAEventReport", report)))
    assert await raw.rose() == codec.Reject(6, ("invoke", "unrecognizedOperation"))


async def test_mistyped_argument_is_rejected(link: Link) -> None:
    raw = await associated(link)
    argument = codec.encode("SystemStatusArg", {"systemStatus": "normal"})
    pdu = ("invoke", {"invokeId": ("present", 9), "opcode": ("local", 10), "argument": argument})
    raw.send(codec.encode("ROS", pdu))
    assert await raw.rose() == codec.Reject(9, ("invoke", "mistypedArgument"))


async def test_four_byte_invoke_ids(link: Link) -> None:
    raw = await associated(link)
    for invoke_id in (2**31 - 1, -(2**31)):
        raw.send(codec.encode_rose(codec.Invoke(invoke_id, "snapshotDevice", SNAPSHOT_330)))
        reply = await raw.rose()
        assert isinstance(reply, codec.ReturnResult) and reply.invoke_id == invoke_id
    # a fifth byte makes the PDU unusable: general problem, no invoke id to answer
    raw.send(b"\xa1\x0d\x02\x05\x01\x00\x00\x00\x00\x02\x01\x4a\x30\x01\x00")
    reply = await raw.rose()
    assert isinstance(reply, codec.Reject) and reply.invoke_id is None


async def test_unexpected_result_is_rejected(link: Link) -> None:
    raw = await associated(link)
    raw.send(codec.encode_rose(codec.ReturnResult(4242)))
    assert await raw.rose() == codec.Reject(4242, ("returnResult", "unrecognizedInvocation"))


# -- robustness: resources ------------------------------------------------------------------------
async def test_slow_reader_is_cut_off_alone(make_link: LinkFactory) -> None:
    limits = Limits(max_write_buffer=8192, send_buffer=4096)
    async with make_link(limits) as link:
        # A bare socket outside asyncio's streams: once we stop calling recv, nothing reads.
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", link.port))
        decoder, frames = FrameDecoder("siemens"), []

        async def exchange(payload: bytes) -> bytes:
            await loop.sock_sendall(sock, encode_frame(payload))
            while not frames:
                frames.extend(decoder.feed(await loop.sock_recv(sock, 65536)))
            return frames.pop(0)

        assert (
            codec.decode_acse(
                await exchange(codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
            )[1]["result"]
            == 0
        )
        while not frames:  # the systemStatus invoke
            frames.extend(decoder.feed(await loop.sock_recv(sock, 65536)))
        frames.clear()
        for n, device in enumerate(("330", "331"), 1):
            arg = {"monitorObject": ("deviceObject", device_id(device))}
            reply = codec.decode_rose(
                await exchange(codec.encode_rose(codec.Invoke(n, "monitorStart", arg)))
            )
            assert isinstance(reply, codec.ReturnResult)
        async with link.client() as fast:  # an application that keeps reading
            await fast.monitor_start("330")
            for _ in range(300):  # the slow one never reads: its queue grows until cut off
                if len(link.server.sessions) == 1:
                    break
                made = await fast.invoke(
                    "makeCall",
                    {"callingDevice": device_id("330"), "calledDirectoryNumber": device_id("331")},
                )
                call = made["callingDevice"][1]["callID"]
                await fast.invoke("clearCall", {"callToBeCleared": ("callID", call)})
            assert len(link.server.sessions) == 1, "the slow reader was never cut off"
            assert not fast.events.empty()
            await fast.invoke("snapshotDevice", SNAPSHOT_330)
        sock.close()


async def test_other_connections_unaffected(link: Link) -> None:
    async with link.client() as good:
        await good.monitor_start("331")
        bad = await associated(link)
        bad.send(b"\xa1\x02\x99\x99")  # garbage: rejected
        bad.send_raw(b"\x00\x00\x00")  # broken framing: aborted
        await bad.eof()
        made = await good.invoke(
            "makeCall",
            {"callingDevice": device_id("330"), "calledDirectoryNumber": device_id("331")},
        )
        assert made["callingDevice"][0] == "both"
        report = await good.next_event()
        assert report.name == "delivered"


async def _wait(condition: object, timeout: float = TIMEOUT) -> None:
    """Yield to the loop until ``condition()`` holds (no wall-clock sleeps)."""
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.001)


async def test_connection_limit_closes_the_newcomer_only(make_link: LinkFactory) -> None:
    async with make_link(Limits(max_connections=1)) as link, link.client() as first:
        extra = await Raw.connect(link.port)
        assert await extra.eof() == []
        await first.invoke("snapshotDevice", SNAPSHOT_330)


async def test_monitor_limit(make_link: LinkFactory) -> None:
    async with make_link(Limits(max_monitors=2)) as link, link.client() as app:
        await app.monitor_start("330")
        await app.monitor_start("331")
        try:
            await app.monitor_start("332")
        except CstaRefused as exc:
            assert (exc.branch, exc.value) == (
                "subscribedResourceAvailability",
                "objectMonitorLimitExceeded",
            )
        else:  # pragma: no cover
            raise AssertionError("a third monitor was accepted")


def test_association_refusals_read_for_people() -> None:
    """Every X.227 acse-service-user diagnostic gets a sentence; others say what they are."""
    from cti.csta.codec.pdu import ACSE_SERVICE_USER_DIAGNOSTICS

    for value in range(len(ACSE_SERVICE_USER_DIAGNOSTICS)):
        text = str(AssociationRefused(("acse-service-user", value)))
        assert text.startswith("association refused: ") and "acse-service-user" not in text
    assert str(AssociationRefused(("acse-service-user", 14))) == (
        "association refused: authentication required (no user or password was sent)"
    )
    assert str(AssociationRefused(("acse-service-user", 2))) == (
        "association refused: application context not supported (the switch speaks CSTA "
        "Phase III, 1.3.12.0.218)"
    )
    assert str(AssociationRefused(("acse-service-provider", 2))) == (
        "association refused: acse-service-provider 2"
    )
    assert str(AssociationRefused("abrt instead of aare")) == (
        "association refused: abrt instead of aare"
    )
