"""One CSTA association: the ACSE state machine, ROSE dispatch and the connection's writes.

States: ``awaiting`` (only an AARQ is acceptable; anything else is answered with ABRT and the
connection is closed, X.227), ``associated`` (ROSE flows; RLRQ -> RLRE and close; ABRT closes),
``closed``. After accepting, the switch invokes systemStatus(normal), as the PBX family does.
Per X.880 a broken PDU is answered with a Reject and the association carries on: the framing
still tells where the next PDU starts. Only a framing error (no way to resynchronise) or a
write queue over its limit (a reader too slow to keep up) closes the connection; both affect
this connection only.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog

from cti.app.node import Committed
from cti.csta import codec
from cti.csta.codec import Invoke, Reject, ReturnError, ReturnResult
from cti.csta.errors import CodecError, FramingError
from cti.csta.framing import FrameDecoder, Style, encode_frame
from cti.csta.monitors import Monitors
from cti.csta.refusals import ServiceRefused
from cti.csta.reports import reports
from cti.csta.services import NotOffered, Services

if TYPE_CHECKING:
    from cti.csta.server import CstaServer

log = structlog.get_logger(__name__)
READ_CHUNK = 65536
ABORT_SERVICE_USER, ABORT_SERVICE_PROVIDER = 0, 1


class Session:
    def __init__(
        self, server: CstaServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.limits = server.limits
        self.reader, self.writer = reader, writer
        self.peer = str(writer.get_extra_info("peername"))
        self.state = "awaiting"
        self.user = ""
        self.monitors = Monitors(self.limits.max_monitors)
        self.services = Services(server.engine, self.monitors)
        self.framing: Style = server.framing
        self._ids = itertools.count(1)
        self._status_invoke: int | None = None
        self.status_acknowledged = asyncio.Event()
        self._unreported: deque[Sequence[Committed]] = deque()
        self.log = log.bind(peer=self.peer)

    @property
    def associated(self) -> bool:
        return self.state == "associated"

    # -- reading ------------------------------------------------------------------------------
    async def run(self) -> None:
        decoder = FrameDecoder(self.framing, self.limits.max_frame)
        try:
            while self.state != "closed":
                timeout = None if self.associated else self.limits.associate_timeout
                data = await asyncio.wait_for(self.reader.read(READ_CHUNK), timeout)
                if not data:  # EOF; a truncated frame still buffered is dropped with it
                    self.log.info("csta.eof", pending=decoder.pending)
                    break
                try:
                    frames = decoder.feed(data)
                except FramingError as exc:
                    self.log.warning("csta.framing_error", error=str(exc))
                    self.abort("protocol-error")
                    break
                for frame in frames:
                    await self.handle(frame)
                    if self.state == "closed":
                        break
        except TimeoutError:
            self.log.warning("csta.associate_timeout")
            self.abort("no-reason-given")
        except (ConnectionError, OSError) as exc:
            self.log.info("csta.connection_lost", error=str(exc))
        finally:
            self.close()

    async def handle(self, frame: bytes) -> None:
        try:
            kind = codec.classify(frame)
        except CodecError as exc:
            if not self.associated:
                self.abort("protocol-error")
            else:
                self.send_rose(Reject(None, exc.problem))
            return
        if kind == "acse":
            self.on_acse(frame)
        elif not self.associated:  # X.227: no ROSE before the association is up
            self.log.warning("csta.rose_before_association")
            self.abort("protocol-error")
        else:
            await self.on_rose(frame)

    # -- ACSE ---------------------------------------------------------------------------------
    def on_acse(self, frame: bytes) -> None:
        try:
            kind, body = codec.decode_acse(frame)
        except CodecError as exc:
            self.log.warning("csta.bad_acse", error=str(exc))
            self.abort("protocol-error")
            return
        if kind == "aarq" and self.state == "awaiting":
            self.on_aarq(body)
        elif kind == "rlrq" and self.associated:
            self.send(codec.encode_acse(("rlre", {"reason": 0})))  # normal
            self.log.info("csta.released", user=self.user)
            self.close()
        elif kind == "abrt":
            self.log.info("csta.aborted_by_peer", source=body.get("abort-source"))
            self.close()
        else:
            self.log.warning("csta.unexpected_acse", apdu=kind, state=self.state)
            self.abort("protocol-error")

    def on_aarq(self, body: dict[str, Any]) -> None:
        if body.get("aSO-context-name") != codec.CSTA_CONTEXT:
            self.refuse_association("application-context-name-not-supported")
            return
        credentials = codec.aarq_credentials(("aarq", body))
        if credentials is None:
            self.refuse_association("authentication-required")
            return
        user, password = credentials
        settings = self.server.settings
        ok = hmac.compare_digest(user.encode(), settings.user.encode())
        ok &= hmac.compare_digest(password.encode(), settings.password.encode())
        if not ok:
            self.refuse_association("authentication-failure", user)
            return
        self.send(codec.encode_acse(codec.aare(True)))
        self.state, self.user = "associated", user
        self.log = self.log.bind(user=user)
        self.log.info("csta.associated")
        self._status_invoke = self.next_id()
        self.send_rose(Invoke(self._status_invoke, "systemStatus", {"systemStatus": "normal"}))

    def refuse_association(self, diagnostic: str, user: str = "") -> None:
        self.log.warning("csta.association_refused", diagnostic=diagnostic, user=user)
        self.send(codec.encode_acse(codec.aare(False, diagnostic)))
        self.close()

    # -- ROSE ---------------------------------------------------------------------------------
    async def on_rose(self, frame: bytes) -> None:
        try:
            pdu = codec.decode_rose(frame)
        except CodecError as exc:
            self.log.info("csta.reject", problem=exc.problem, error=str(exc))
            self.send_rose(Reject(exc.invoke_id, exc.problem))
            return
        if isinstance(pdu, Invoke):
            await self.on_invoke(pdu)
        elif isinstance(pdu, ReturnResult | ReturnError):
            if pdu.invoke_id == self._status_invoke:
                self._status_invoke = None
                self.status_acknowledged.set()
                if isinstance(pdu, ReturnError):
                    self.log.warning("csta.system_status_error", parameter=pdu.parameter)
            else:
                kind = "returnResult" if isinstance(pdu, ReturnResult) else "returnError"
                self.send_rose(Reject(pdu.invoke_id, (kind, "unrecognizedInvocation")))
        else:
            self.log.warning("csta.rejected_by_peer", invoke_id=pdu.invoke_id, problem=pdu.problem)

    async def on_invoke(self, pdu: Invoke) -> None:
        operation = str(pdu.opcode)
        self.flush_reports()  # what was committed before this invoke meets today's monitors
        try:
            result = await self.services.invoke(operation, pdu.argument)
            reply: Any = ReturnResult(pdu.invoke_id, operation, result)
        except NotOffered:
            reply = Reject(pdu.invoke_id, ("invoke", "unrecognizedOperation"))
        except ServiceRefused as refused:
            self.log.info("csta.refused", operation=operation, error=str(refused))
            reply = ReturnError(pdu.invoke_id, "universalFailure", refused.parameter)
        except Exception:  # a bug costs this invoke, never the link
            self.log.exception("csta.invoke_crashed", operation=operation)
            reply = ReturnError(pdu.invoke_id, "universalFailure", ("operation", "generic"))
        try:
            data = codec.encode_rose(reply)
        except CodecError:
            self.log.exception("csta.result_unencodable", operation=operation)
            data = codec.encode_rose(
                ReturnError(pdu.invoke_id, "universalFailure", ("operation", "generic"))
            )
        self.flush_reports()
        self.send(data)

    # -- event reports ------------------------------------------------------------------------
    def on_commit(self, batch: Sequence[Committed]) -> None:
        """Called by the node's writer after each commit: only queue, encode later.

        Encoding (pyasn1) runs in a callback right after the writer's step, not inside it, so
        the writer answers its commands without waiting for every link's encoder. Queued
        reports are flushed before any invoke is handled and before any result is written,
        so a result always follows the reports of what was committed before it.
        """
        if not self.associated or not len(self.monitors):
            return
        self._unreported.append(batch)
        if len(self._unreported) == 1:
            asyncio.get_running_loop().call_soon(self.flush_reports)

    def flush_reports(self) -> None:
        while self._unreported and self.state != "closed":
            for item in self._unreported.popleft():
                for report in reports(item.event, self.monitors):
                    try:
                        self.send_rose(Invoke(self.next_id(), "cSTAEventReport", report))
                    except CodecError:
                        self.log.exception("csta.report_unencodable", event=item.event.KIND)
        self._unreported.clear()

    # -- writing ------------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids) % codec.INVOKE_ID_MAX + 1

    def send_rose(self, pdu: Any) -> None:
        self.send(codec.encode_rose(pdu))

    def send(self, payload: bytes) -> None:
        if self.state == "closed" or self.writer.is_closing():
            return
        self.writer.write(encode_frame(payload, self.framing))
        queued = self.writer.transport.get_write_buffer_size()
        if queued > self.limits.max_write_buffer:
            # The application does not read: dropping reports would silently lie to it, so
            # the connection goes (it reconnects and snapshots); nobody else waits for it.
            self.log.warning("csta.slow_reader", queued=queued)
            self.state = "closed"
            self.writer.transport.abort()

    def abort(self, diagnostic: str) -> None:
        """ABRT (from the service provider, i.e. us) and close."""
        abrt = ("abrt", {"abort-source": ABORT_SERVICE_PROVIDER, "abort-diagnostic": diagnostic})
        self.send(codec.encode_acse(abrt))
        self.close()

    def close(self) -> None:
        if self.state != "closed":
            self.state = "closed"
        if not self.writer.is_closing():
            self.writer.close()
