"""Fairness and limits of the CSTA link: one peer's flood, big frames or dripping bytes
cost that peer its connection, never the other associations their turn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from cti.csta import codec
from cti.csta.codec import pdu
from cti.csta.codec.framing import encode_frame
from cti.csta.codec.types import rose
from cti.csta.link.server import Limits
from cti.csta.link.session import Session
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


async def test_pipelined_garbage_is_aborted_after_max_rejects(link: Link) -> None:
    flood = await associated(link)
    flood.send_raw(b"".join(b"\x26\x80\x02\xa1\x00" for _ in range(20_000)))
    async with link.client() as other:  # meanwhile another association is served
        await other.invoke("snapshotDevice", SNAPSHOT_330)
    frames = await flood.eof()
    rejects = [f for f in frames if codec.classify(f) == "rose"]
    assert len(rejects) == link.server.limits.max_rejects  # 16 Rejects, then the ABRT
    assert abrt_of(frames[-1])["abort-diagnostic"] == "protocol-error"
    await assert_serving(link)


async def test_a_usable_pdu_resets_the_reject_count(link: Link) -> None:
    raw = await associated(link)
    limit = link.server.limits.max_rejects
    for n in range(3):
        raw.send_raw(b"".join(b"\x26\x80\x02\xa1\x00" for _ in range(limit - 1)))
        raw.send(codec.encode_rose(codec.Invoke(100 + n, "snapshotDevice", SNAPSHOT_330)))
        for _ in range(limit - 1):
            assert isinstance(await raw.rose(), codec.Reject)
        reply = await raw.rose()
        assert isinstance(reply, codec.ReturnResult) and reply.invoke_id == 100 + n


async def test_pipelined_invokes_do_not_starve_other_associations(
    link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    flood = await associated(link)
    (flooding,) = link.server.sessions
    other = await associated(link)
    sent: list[bool] = []  # per frame written: was it to the flooding association?
    original = Session.send

    def send(self: Session, payload: bytes) -> None:
        sent.append(self is flooding)
        original(self, payload)

    monkeypatch.setattr(Session, "send", send)
    count = 2000
    invoke = codec.encode_rose(codec.Invoke(1, "systemStatus", {"systemStatus": "normal"}))
    flood.send_raw(b"".join(encode_frame(invoke) for _ in range(count)))
    await flood.rose()  # the server is working the flood off
    other.send(codec.encode_rose(codec.Invoke(2, "snapshotDevice", SNAPSHOT_330)))
    reply = await other.rose()
    assert isinstance(reply, codec.ReturnResult) and reply.invoke_id == 2
    for _ in range(count - 1):
        await flood.rose()
    # the other association was answered while the flood was still being worked off
    assert False in sent and True in sent[sent.index(False) :]


async def test_big_frame_before_association_is_aborted(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(b"\x60" + bytes(link.server.limits.max_frame_unassociated))
    frames = await raw.eof()
    assert abrt_of(frames[-1])["abort-diagnostic"] == "protocol-error"
    assert not any(s.associated for s in link.server.sessions)


async def test_frame_limit_after_association(link: Link) -> None:
    raw = await associated(link)
    big = link.server.limits.max_frame_unassociated + 100  # fine once associated
    raw.send(b"\xa1" + bytes(big))
    assert isinstance(await raw.rose(), codec.Reject)
    raw.send(b"\xa1" + bytes(link.server.limits.max_frame))  # over max_frame
    frames = await raw.eof()
    assert abrt_of(frames[-1])["abort-diagnostic"] == "protocol-error"


async def test_associate_deadline_counts_from_connect(make_link: LinkFactory) -> None:
    async with make_link(Limits(associate_timeout=0.3)) as link:
        raw = await Raw.connect(link.port)
        aarq = codec.encode_acse(codec.aarq("cti", SETTINGS.password))
        data = bytes((0x26, 0x80 | len(aarq) >> 8, len(aarq) & 0xFF)) + aarq
        closed = asyncio.ensure_future(raw.eof(timeout=TIMEOUT))
        for byte in data[:-1]:  # one byte every 0.1 s: each read is well within the timeout
            if closed.done():
                break
            raw.send_raw(bytes((byte,)))
            await asyncio.wait([closed], timeout=0.1)
        assert closed.done(), "still unassociated after dripping the whole AARQ but one byte"
        frames = await closed
        assert abrt_of(frames[-1])["abort-source"] == 1
        assert not link.server.sessions or all(not s.associated for s in link.server.sessions)


# -- ROSE answers are matched to our invokes first (X.880) --------------------------------------
async def test_result_with_unknown_opcode_for_no_invoke_of_ours(link: Link) -> None:
    raw = await associated(link)
    result = {"opcode": ("local", 9999), "result": b"\x05\x00"}
    body = {"invokeId": ("present", 4243), "result": result}
    raw.send(pdu._encode_type(rose.ROS, ("returnResult", body)))
    assert await raw.rose() == codec.Reject(4243, ("returnResult", "unrecognizedInvocation"))
    body = {"invokeId": ("present", 4244), "errcode": ("local", 9999), "parameter": b"\x05\x00"}
    raw.send(pdu._encode_type(rose.ROS, ("returnError", body)))
    assert await raw.rose() == codec.Reject(4244, ("returnError", "unrecognizedInvocation"))


async def test_reject_of_our_system_status_settles_it(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
    assert codec.decode_acse(await raw.frame())[0] == "aare"
    status = await raw.rose()
    assert isinstance(status, codec.Invoke) and status.opcode == "systemStatus"
    (session,) = link.server.sessions
    raw.send(codec.encode_rose(codec.Reject(status.invoke_id, ("invoke", "mistypedArgument"))))
    await asyncio.wait_for(session.status_acknowledged.wait(), TIMEOUT)
    # settled: a late result for it is now an unrecognized invocation
    raw.send(codec.encode_rose(codec.ReturnResult(status.invoke_id)))
    assert await raw.rose() == codec.Reject(
        status.invoke_id, ("returnResult", "unrecognizedInvocation")
    )


async def test_result_of_our_system_status_with_another_opcode_is_mistyped(link: Link) -> None:
    raw = await Raw.connect(link.port)
    raw.send(codec.encode_acse(codec.aarq("cti", SETTINGS.password)))
    assert codec.decode_acse(await raw.frame())[0] == "aare"
    status = await raw.rose()
    assert isinstance(status, codec.Invoke)
    raw.send(
        codec.encode_rose(codec.ReturnResult(status.invoke_id, "monitorStop", ("noData", None)))
    )
    assert await raw.rose() == codec.Reject(status.invoke_id, ("returnResult", "mistypedResult"))


# -- exhaustion: idle associations and per-address limits ---------------------------------------
async def test_a_silent_association_is_probed_then_aborted(link: Link) -> None:
    """Silent for keepalive_interval (60 s on the node's clock): the switch invokes
    systemStatus(normal); no answer within keepalive_timeout (30 s): ABRT, closed."""
    raw = await associated(link)
    (session,) = link.server.sessions
    await asyncio.wait_for(session.status_acknowledged.wait(), TIMEOUT)  # heard at 0 s
    link.clock.advance(59)
    link.clock.advance(1)
    probe = await raw.rose()
    assert isinstance(probe, codec.Invoke) and probe.opcode == "systemStatus"
    assert probe.argument == {"systemStatus": "normal"}
    link.clock.advance(30)
    frames = await raw.eof()
    assert abrt_of(frames[-1]) == {"abort-source": 1, "abort-diagnostic": "no-reason-given"}
    assert session.state == "closed"


async def test_an_application_that_answers_the_probe_stays_associated(link: Link) -> None:
    """Our CSTA client answers systemStatus as applications do: hours of silence on the
    application's side cost it nothing, and the probes stop while it talks."""
    async with link.client() as app:
        (session,) = link.server.sessions
        for _ in range(5):
            heard = session.heard_ms
            link.clock.advance(60)
            await asyncio.wait_for(_until(lambda h=heard: session.heard_ms > h), TIMEOUT)
            link.clock.advance(30)
        assert [s.associated for s in link.server.sessions] == [True]
        result = await app.invoke("snapshotDevice", SNAPSHOT_330)
        assert result["crossRefIDorSnapshotData"][0] == "snapshotData"


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_unassociated_connections_per_address_are_bounded(make_link: LinkFactory) -> None:
    """One address holds at most max_unassociated_per_address connections that have not
    associated: the next is closed at once; once one associates, there is room again."""
    async with make_link(Limits(max_unassociated_per_address=2)) as link:
        idle = [await Raw.connect(link.port), await Raw.connect(link.port)]
        await asyncio.wait_for(_until(lambda: len(link.server.sessions) == 2), TIMEOUT)
        third = await Raw.connect(link.port)
        assert await third.eof() == []  # closed without a word: nothing was asked yet
        await idle[0].associate()
        fourth = await Raw.connect(link.port)
        await fourth.associate()
        assert sum(s.associated for s in link.server.sessions) == 2


async def test_connections_per_address_are_bounded(make_link: LinkFactory) -> None:
    async with make_link(Limits(max_per_address=2)) as link:
        kept = [await associated(link), await associated(link)]  # held: they stay open
        extra = await Raw.connect(link.port)
        assert await extra.eof() == []
        assert sum(s.associated for s in link.server.sessions) == len(kept) == 2
