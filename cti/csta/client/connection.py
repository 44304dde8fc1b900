"""An asyncio CSTA application: associate, invoke services, monitor devices, read reports.

Used by ``cti csta`` and the tests; it speaks exactly what :mod:`cti.csta.link.server` expects
(ACSE password authentication as in :func:`cti.csta.codec.aarq`) and answers the switch's
systemStatus invoke itself, and its monitorStop (a monitor it ended: queued in ``events``, in
order with the reports, as an :class:`EventReport` whose ``ended`` is true).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from datetime import UTC, datetime
from typing import Any

import attrs
import structlog

from cti.api.requests import BadRequest
from cti.calls import commands as cmd
from cti.calls.errors import CstaError
from cti.csta import codec
from cti.csta.client import arguments
from cti.csta.codec import Invoke, Reject, ReturnError, ReturnResult
from cti.csta.codec.errors import CodecError, FramingError
from cti.csta.codec.framing import FrameDecoder, Style, encode_frame
from cti.csta.ids import device_id

log = structlog.get_logger(__name__)


class CstaClientError(Exception):
    """Base of what the client raises."""


class CstaRefused(CstaClientError):
    """The service was refused: returnError universalFailure ``(branch, value)``."""

    def __init__(self, branch: str, value: Any) -> None:
        super().__init__(f"{branch}/{value}")
        self.branch, self.value = branch, value


class RequestFailed(CstaClientError):
    """:meth:`CstaClient.request` was refused; ``code`` is our error name (specs/mqtt.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class CstaRejected(CstaClientError):
    """The switch rejected the invoke (X.880 Reject ``problem``)."""

    def __init__(self, problem: tuple[str, Any]) -> None:
        super().__init__(f"rejected: {problem[0]}/{problem[1]}")
        self.problem = problem


# X.227 Associate-source-diagnostic acse-service-user, read for people (what a refusal by
# this switch means is in specs/csta.md, "Association and authentication").
REASONS: dict[int, str] = {
    0: "refused (no diagnostic given)",
    1: "refused (no reason given; this switch says so for a CSTA version it cannot serve: "
    "it serves ECMA-285 / ISO/IEC 18052, the AARE's user information lists them)",
    2: "application context not supported (the switch speaks CSTA Phase III, 1.3.12.0.218)",
    3: "calling AP title not recognized (the user name)",
    4: "calling AP invocation identifier not recognized",
    5: "calling AE qualifier not recognized",
    6: "calling AE invocation identifier not recognized",
    7: "called AP title not recognized",
    8: "called AP invocation identifier not recognized",
    9: "called AE qualifier not recognized",
    10: "called AE invocation identifier not recognized",
    11: "authentication mechanism not recognized",
    12: "authentication mechanism required",
    13: "authentication failed (unknown user, wrong password, or an account that must "
    "change its password first; the switch's log says which)",
    14: "authentication required (no user or password was sent)",
}


def refusal_text(diagnostic: Any) -> str:
    """An AARE's result-source-diagnostic (``("acse-service-user", 13)``) as one line."""
    if isinstance(diagnostic, tuple) and len(diagnostic) == 2:
        source, value = diagnostic
        if source == "acse-service-user" and value in REASONS:
            return REASONS[value]
        return f"{source} {value}"
    return str(diagnostic)


class AssociationRefused(CstaClientError):
    """The switch did not accept the association. ``diagnostic`` is the AARE's
    result-source-diagnostic as on the wire, ``reason`` what it means, in words."""

    def __init__(self, diagnostic: Any) -> None:
        text = refusal_text(diagnostic)
        super().__init__(f"association refused: {text}")
        self.diagnostic = diagnostic
        self.reason = text.split(" (")[0]


MONITOR_STOP = "monitorStop"

# X.227 ABRT-diagnostic, read for people: what this switch means by each it sends is in
# specs/csta.md ("Association and authentication", "Framing, limits and robustness").
ABORT_REASONS: dict[str, str] = {
    "no-reason-given": "no reason given (the switch stopping, or the association idle too long)",
    "protocol-error": "protocol error (the switch could not read what it was sent)",
    "authentication-failure": "authentication failure (the account was removed, or its "
    "password changed or reset)",
    "authentication-required": "authentication required",
    "authentication-mechanism-name-not-recognized": "authentication mechanism not recognized",
    "authentication-mechanism-name-required": "authentication mechanism required",
}


def abort_text(body: dict[str, Any]) -> str:
    """An ABRT's fields (``{'abort-source': 1, 'abort-diagnostic': ...}``) as one line."""
    diagnostic = body.get("abort-diagnostic")
    if diagnostic is None:
        return "aborted by the switch"
    return f"aborted by the switch: {ABORT_REASONS.get(str(diagnostic), str(diagnostic))}"


class LinkClosed(CstaClientError):
    """The connection ended (ABRT, EOF, release)."""


@attrs.frozen
class EventReport:
    """An event report of the monitor ``xref``; or, named ``monitorStop`` (category and value
    empty), the switch's monitorStop invoke: it ended that monitor (the account may no longer
    have it, specs/csta.md) and no report of it follows."""

    xref: bytes
    category: str
    name: str
    value: dict[str, Any]
    received: float  # time.time() at arrival

    @property
    def ended(self) -> bool:
        """The switch ended the monitor (its monitorStop), rather than reporting an event."""
        return self.name == MONITOR_STOP

    @property
    def logged(self) -> float | None:
        """When the switch says the event happened (its security timestamp, seconds since
        the epoch), or None if the report has none (or one this client cannot read)."""
        security = (self.value.get("extensions") or {}).get("security") or {}
        return generalized_time(security.get("timestamp"))


def generalized_time(text: Any) -> float | None:
    """A GeneralizedTime in UTC (``YYYYMMDDHHMMSS[.f]Z``) as seconds since the epoch."""
    if not isinstance(text, str) or not text.endswith("Z"):
        return None
    whole, _, fraction = text[:-1].partition(".")
    if len(whole) != 14 or not whole.isdigit() or not (fraction.isdigit() or not fraction):
        return None
    try:
        moment = datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        return moment.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)
    except ValueError:
        return None


class CstaClient:
    def __init__(
        self,
        host: str,
        port: int,
        user: str = "cti",
        password: str = "cti",
        framing: Style = "siemens",
        *,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port = host, port
        self.user, self.password = user, password
        self.framing: Style = framing
        self.timeout = timeout
        self.events: asyncio.Queue[EventReport] = asyncio.Queue()
        self.system_status = asyncio.Event()  # the switch's systemStatus arrived
        self.closed = asyncio.Event()
        self.abort: dict[str, Any] | None = None  # the ABRT that ended the link, if any
        # What ended the link, in words (an ABRT's reason, the switch's close or reset);
        # None while it lasts, or when we closed it.
        self.lost: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = FrameDecoder(framing)
        self._frames: list[bytes] = []
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._released: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def associated(self) -> bool:
        """The switch accepted the association (which may have ended since)."""
        return self._task is not None

    async def __aenter__(self) -> CstaClient:
        await self.associate()
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(CstaClientError, OSError, TimeoutError):
            await self.release()
        await self.close()

    # -- association ----------------------------------------------------------------------
    async def associate(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout
        )
        try:
            self.send(codec.encode_acse(codec.aarq(self.user, self.password)))
            frame = await asyncio.wait_for(self._next_frame(), self.timeout)
            kind, body = codec.decode_acse(frame)
            if kind != "aare":
                raise AssociationRefused(f"{kind} instead of aare")
            if body.get("result") != 0:
                raise AssociationRefused(body.get("result-source-diagnostic"))
        except BaseException:  # timeout, undecodable AARE, refusal, cancellation: no leak
            await self.close()
            raise
        self._task = asyncio.create_task(self._read_loop(), name="csta-client")

    async def release(self) -> None:
        """RLRQ, wait for RLRE, close."""
        if self.closed.is_set():
            return
        self._released = asyncio.get_running_loop().create_future()
        self.send(codec.encode_acse(("rlrq", {"reason": 0})))
        await asyncio.wait_for(asyncio.shield(self._released), self.timeout)
        await self.close()

    async def close(self) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._closed()

    # -- services ---------------------------------------------------------------------------
    async def invoke(self, operation: str, argument: Any) -> Any:
        """The operation's result; raises CstaRefused / CstaRejected / LinkClosed."""
        if self.closed.is_set():
            raise LinkClosed(self.lost or "link closed")
        invoke_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[invoke_id] = future
        try:
            self.send(codec.encode_rose(Invoke(invoke_id, operation, argument)))
            return await asyncio.wait_for(future, self.timeout)
        finally:
            self._pending.pop(invoke_id, None)

    async def request(self, service: str, fields: dict[str, Any]) -> Any:
        """Our service with our fields (as in an MQTT request) -> our result, through CSTA.

        :mod:`cti.csta.client.arguments` builds the invoke and reads the result back. Raises
        RequestFailed with our error name for a refusal (universalFailure mapped back, or a
        bad field, as the MQTT face would refuse it), CstaRejected / LinkClosed otherwise.
        Two-call services without heldCall/activeCall first ask snapshotDevice."""
        if not arguments.is_csta(service):  # presence, voicemail, ...: the node's own
            raise RequestFailed("serviceNotSupported", f"{service} is not a CSTA service")
        try:
            action = arguments.parse(service, fields)
            if isinstance(action, cmd.TwoCallCommand) and None in (
                action.held_call,
                action.active_call,
            ):
                rows = await self.request("snapshotDevice", {"device": action.device})
                action = arguments.two_calls_at(action, rows)
            operation, argument = arguments.invoke_of(action)
            return arguments.result_of(action, await self.invoke(operation, argument))
        except BadRequest as bad:
            raise RequestFailed(bad.code, bad.message) from None
        except CstaError as err:
            raise RequestFailed(err.name, err.message) from None
        except CstaRefused as refused:
            code = arguments.error_name(refused.branch, refused.value)
            raise RequestFailed(code, f"{service} refused: {refused}") from None

    async def monitor_start(self, device: str, monitor_filter: Any = None) -> bytes:
        argument: dict[str, Any] = {"monitorObject": ("deviceObject", device_id(device))}
        if monitor_filter is not None:
            argument["requestedMonitorFilter"] = monitor_filter
        result = await self.invoke("monitorStart", argument)
        xref: bytes = result["crossRefIdentifier"]
        return xref

    async def monitor_stop(self, xref: bytes) -> None:
        await self.invoke("monitorStop", {"crossRefIdentifier": xref})

    async def next_event(self, timeout: float | None = None) -> EventReport:
        return await asyncio.wait_for(self.events.get(), timeout or self.timeout)

    # -- the wire ---------------------------------------------------------------------------
    def send(self, payload: bytes) -> None:
        if self._writer is None or self._writer.is_closing():
            raise LinkClosed("not connected")
        self._writer.write(encode_frame(payload, self.framing))

    async def _next_frame(self) -> bytes:
        assert self._reader is not None
        while not self._frames:
            data = await self._reader.read(65536)
            if not data:
                raise LinkClosed("connection closed by the switch")
            self._frames += self._decoder.feed(data)
        return self._frames.pop(0)

    async def _read_loop(self) -> None:
        try:
            while True:
                self._dispatch(await self._next_frame())
        except (LinkClosed, FramingError, OSError, CodecError) as exc:
            log.debug("csta_client.closed", reason=str(exc))
            self.lost = _lost_text(exc)
        finally:
            self._closed()

    def _dispatch(self, frame: bytes) -> None:
        if codec.classify(frame) == "acse":
            kind, body = codec.decode_acse(frame)
            if kind == "rlre" and self._released is not None and not self._released.done():
                self._released.set_result(None)
            elif kind == "abrt":
                self.abort = body
                raise LinkClosed(abort_text(body))
            return
        try:
            pdu = codec.decode_rose(frame)
        except CodecError as exc:
            self.send(codec.encode_rose(Reject(exc.invoke_id, exc.problem)))
            return
        if isinstance(pdu, Invoke):
            self._on_invoke(pdu)
            return
        future = self._pending.get(pdu.invoke_id) if pdu.invoke_id is not None else None
        if future is None or future.done():
            return
        if isinstance(pdu, ReturnResult):
            future.set_result(pdu.result)
        elif isinstance(pdu, ReturnError):
            branch, value = pdu.parameter
            future.set_exception(CstaRefused(branch, value))
        else:
            future.set_exception(CstaRejected(pdu.problem))

    def _on_invoke(self, pdu: Invoke) -> None:
        if pdu.opcode == "cSTAEventReport":
            category, (name, value) = pdu.argument["eventSpecificInfo"]
            xref = pdu.argument["crossRefIdentifier"]
            self.events.put_nowait(EventReport(xref, category, name, value, time.time()))
        elif pdu.opcode == "systemStatus":
            self.send(
                codec.encode_rose(ReturnResult(pdu.invoke_id, "systemStatus", ("noData", None)))
            )
            self.system_status.set()
        elif pdu.opcode == MONITOR_STOP:  # the switch ended a monitor: in order with reports
            self.send(
                codec.encode_rose(ReturnResult(pdu.invoke_id, MONITOR_STOP, ("noData", None)))
            )
            xref = pdu.argument["crossRefIdentifier"]
            self.events.put_nowait(EventReport(xref, "", MONITOR_STOP, {}, time.time()))
        else:
            self.send(codec.encode_rose(Reject(pdu.invoke_id, ("invoke", "unrecognizedOperation"))))

    def _closed(self) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkClosed(self.lost or "link closed"))
        if self._released is not None and not self._released.done():
            self._released.set_result(None)  # a close after RLRQ is a release too


def _lost_text(exc: Exception) -> str:
    """What ended the read loop, in words (LinkClosed's are already)."""
    if isinstance(exc, LinkClosed):
        return str(exc)
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the switch"
    if isinstance(exc, OSError):
        return f"connection lost: {exc.strerror or exc}"
    return f"unreadable data from the switch: {exc}"  # a framing or codec error
