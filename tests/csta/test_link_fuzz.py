"""Fuzzing the server's frame and PDU path: whatever bytes a peer sends, before or after the
association, the server answers or closes that connection only, never crashes a session
task, and keeps serving other applications."""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.csta import codec
from cti.csta.codec.framing import encode_frame
from cti.csta.codec.types.operations import OPERATIONS
from tests.csta.conftest import SETTINGS, TIMEOUT, Link, Raw, assert_serving
from tests.csta.examples import ARGUMENTS

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.ber"))
BY_ARGUMENT = {op.argument: op.name for op in OPERATIONS.values()}
# Every example argument of tests/csta/examples.py as an invoke: the services see odd but
# well-typed values (deviceNumber, explicitPublic, dynamic ids...), plain and mutated.
INVOKES = [
    codec.encode_rose(codec.Invoke(n, BY_ARGUMENT[type_name], value))
    for n, (type_name, values) in enumerate(ARGUMENTS.items(), 1)
    for value in values
    if type_name in BY_ARGUMENT
]
VALID = [
    *INVOKES,
    codec.encode_acse(codec.aarq("cti", SETTINGS.password)),
    codec.encode_acse(("rlrq", {})),
    *(p.read_bytes() for p in CORPUS),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        data[at] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


PAYLOADS = st.one_of(st.binary(max_size=300), mutated())


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    associate=st.booleans(),
    framed=st.lists(PAYLOADS, max_size=4),
    tail=st.binary(max_size=40),
)
async def test_random_input_never_breaks_the_server(
    link: Link, associate: bool, framed: list[bytes], tail: bytes
) -> None:
    with structlog.testing.capture_logs() as logs:
        raw = await Raw.connect(link.port)
        if associate:
            await raw.associate()
        for payload in framed:
            raw.send_raw(encode_frame(payload[:0x7FFF]))
        raw.send_raw(tail)
        raw.writer.write_eof()
        await asyncio.wait_for(raw.eof(), TIMEOUT)  # the server answers what it can, then closes
        raw.close()
        await assert_serving(link)
    crashes = [e for e in logs if e["event"] in ("csta.session_crashed", "csta.invoke_crashed")]
    assert not crashes, crashes


async def test_every_example_argument_gets_a_csta_answer(link: Link) -> None:
    """Each codec example argument (odd identifier forms included) is answered with a result
    or a precise returnError; none reaches the generic "internal error" path."""
    raw = await Raw.connect(link.port)
    await raw.associate()
    with structlog.testing.capture_logs() as logs:
        for pdu in INVOKES:
            raw.send(pdu)
            while True:
                reply = await raw.rose()
                if not isinstance(reply, codec.Invoke):  # skip event reports
                    break
            assert isinstance(reply, codec.ReturnResult | codec.ReturnError), reply
    assert not [e for e in logs if e["event"] == "csta.invoke_crashed"]
    raw.close()
