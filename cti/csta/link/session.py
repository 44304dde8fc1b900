"""One CSTA association: the ACSE state machine, ROSE dispatch and the connection's writes.

States: ``awaiting`` (only an AARQ is acceptable; anything else is answered with ABRT and the
connection is closed, X.227), ``associated`` (ROSE flows; RLRQ -> RLRE and close; ABRT closes),
``closed``. After accepting, the switch invokes systemStatus(normal), as the PBX family does.
An AARQ's credentials are checked against the node's accounts or the ``[csta]`` account
(:mod:`auth`); failures from one address are answered ever later (:mod:`throttle`), and the
association's account (its principal) goes with every service it sends. Its rights are asked
again before reports are written (:mod:`rights`): a monitor it may no longer have ends, and
the switch invokes monitorStop to say so. When the account's sign-in no longer holds (removed,
its password changed or reset) the association is aborted (:meth:`Session.end_if_signed_out`).
Per X.880 a broken PDU is answered with a Reject and the association carries on: the framing
still tells where the next PDU starts; ``max_rejects`` Rejects in a row end it (ABRT). Frames
are size-limited (tighter before the association) and the session yields to the event loop
after each frame, so one peer's flood never holds up the others. Otherwise only a framing
error (no way to resynchronise) or a write queue over its limit (a reader too slow to keep up)
closes the connection; all of these affect this connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog

from cti.accounts.model import Account
from cti.app.node import Committed
from cti.calls import events as ev
from cti.csta import codec
from cti.csta.codec import Invoke, Reject, ReturnError, ReturnResult
from cti.csta.codec.errors import CodecError, FramingError
from cti.csta.codec.framing import FrameDecoder, Style, encode_frame
from cti.csta.link.auth import authenticate
from cti.csta.link.monitors import Monitors
from cti.csta.link.negotiation import negotiate, responding_value
from cti.csta.link.reports import reports
from cti.csta.link.rights import Rights
from cti.csta.link.services import Executed, NotOffered, Services
from cti.csta.refusals import ServiceRefused

if TYPE_CHECKING:
    from cti.csta.link.server import CstaServer

log = structlog.get_logger(__name__)
READ_CHUNK = 65536
LINGER = 2.0  # seconds a closed connection keeps dropping what the peer still sends
ABORT_SERVICE_USER, ABORT_SERVICE_PROVIDER = 0, 1


class Session:
    def __init__(
        self, server: CstaServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.limits = server.limits
        self.reader, self.writer = reader, writer
        peername = writer.get_extra_info("peername")
        self.peer = str(peername)
        # the throttle's key: the source address without the port
        self.address = str(peername[0]) if isinstance(peername, tuple) else self.peer
        self.state = "awaiting"
        self.user = ""
        self.principal: str | None = None  # the account; None: the [csta] account
        self.signed_in: Account | None = None  # the account as it was when it associated
        self.csta_version: str | None = None  # negotiated in the AARQ / AARE (negotiation)
        self.monitors = Monitors(self.limits.max_monitors, server.engine.node.site)
        self.services = Services(server.engine, self.monitors)  # principal: on association
        self.rights = Rights(server.engine.node, None)  # the principal's: on association
        self.framing: Style = server.framing
        self._ids = itertools.count(1)
        self._status_invoke: int | None = None
        self._outstanding: dict[int, str] = {}  # our invokes awaiting an answer -> operation
        self.status_acknowledged = asyncio.Event()
        self._unreported: deque[Sequence[Committed]] = deque()
        self._flush_scheduled = False
        self._answering = False  # an invoke is being carried out: its reports wait for it
        self._recheck = False  # the account's devices changed: check the monitors (flush_reports)
        self._rejects = 0  # consecutive Rejects sent (reset by any usable PDU)
        self._closed = asyncio.Event()
        # One deadline from connect for the whole pre-association phase: a peer dripping a
        # byte now and then does not restart it.
        self._deadline = asyncio.get_running_loop().time() + self.limits.associate_timeout
        self.clock = server.engine.node.clock
        self.heard_ms = self.clock.now_ms()  # when the peer last sent anything
        self._keeper: asyncio.Task[None] | None = None
        self.log = log.bind(peer=self.peer)

    @property
    def associated(self) -> bool:
        return self.state == "associated"

    # -- reading ------------------------------------------------------------------------------
    async def run(self) -> None:
        limits = self.limits
        decoder = FrameDecoder(self.framing, limits.max_frame_unassociated)
        try:
            while self.state != "closed":
                if self.associated:
                    decoder.max_length = limits.max_frame
                    data = await self.reader.read(READ_CHUNK)
                else:
                    async with asyncio.timeout_at(self._deadline):
                        data = await self.reader.read(READ_CHUNK)
                self.heard_ms = self.clock.now_ms()
                if self.state == "closed":  # aborted meanwhile (end_if_signed_out, stop)
                    break
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
                    # A burst of pipelined frames from one peer must not hold the event loop:
                    # the other associations (and the node) get their turn between frames.
                    await asyncio.sleep(0)
        except TimeoutError:
            self.log.warning("csta.associate_timeout")
            self.abort("no-reason-given")
        except (ConnectionError, OSError) as exc:
            self.log.info("csta.connection_lost", error=str(exc))
        finally:
            self.close()
            await self._drain()

    async def handle(self, frame: bytes) -> None:
        try:
            kind = codec.classify(frame)
        except CodecError as exc:
            if not self.associated:
                self.abort("protocol-error")
            else:
                self.reject(None, exc.problem, str(exc))
            return
        if kind == "acse":
            await self.on_acse(frame)
        elif not self.associated:  # X.227: no ROSE before the association is up
            self.log.warning("csta.rose_before_association")
            self.abort("protocol-error")
        else:
            await self.on_rose(frame)

    def reject(self, invoke_id: int | None, problem: tuple[str, Any], error: str = "") -> None:
        """Send a Reject; ``max_rejects`` in a row (nothing usable in between) abort.

        Only the first Reject of a run is logged, so a flood costs one line, not one per frame.
        """
        self._rejects += 1
        if self._rejects == 1:
            self.log.info("csta.reject", problem=problem, error=error)
        self.send_rose(Reject(invoke_id, problem))
        if self._rejects >= self.limits.max_rejects:  # that many Rejects, then ABRT
            self.log.warning("csta.too_many_rejects", rejects=self._rejects)
            self.abort("protocol-error")

    # -- ACSE ---------------------------------------------------------------------------------
    async def on_acse(self, frame: bytes) -> None:
        try:
            kind, body = codec.decode_acse(frame)
        except CodecError as exc:
            self.log.warning("csta.bad_acse", error=str(exc))
            self.abort("protocol-error")
            return
        if kind == "aarq" and self.state == "awaiting":
            await self.on_aarq(body)
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

    async def on_aarq(self, body: dict[str, Any]) -> None:
        if body.get("aSO-context-name") != codec.CSTA_CONTEXT:
            self.refuse_association("application-context-name-not-supported")
            return
        negotiated = negotiate(("aarq", body), self.services.operations())
        if negotiated.version is None:
            # Phase I/II or XML CSTA only: X.227 has no diagnostic for it, so the AARE says
            # no-reason-given and names the versions the link serves in its user information.
            self.log.warning(
                "csta.association_refused",
                diagnostic="no-reason-given",
                reason="cstaVersion",
                offered=list(negotiated.offered),
                address=self.address,
            )
            self.send(
                codec.encode_acse(
                    codec.aare(
                        False, "no-reason-given", user_information=negotiated.user_information
                    )
                )
            )
            self.close()
            return
        credentials = codec.aarq_credentials(("aarq", body))
        if credentials is None:
            self.refuse_association("authentication-required")
            return
        user, password = credentials
        throttle = self.server.throttle
        gate = self.server.gate(self.address)
        # Waiting for the checks and failures of this address before ours counts against
        # the association deadline (TimeoutError: ABRT, see run).
        async with asyncio.timeout_at(self._deadline):
            await gate.acquire()
        try:
            async with asyncio.timeout_at(self._deadline):
                await self.pause_until(throttle.not_before_ms(self.address))
            if self.state == "closed":
                return
            verdict = await authenticate(
                self.server.settings, self._account, user, password, self.server.password_checks
            )
            if not verdict.accepted:
                delay = throttle.failed(self.address)
                self.log.warning(  # never the password
                    "csta.association_refused",
                    diagnostic="authentication-failure",
                    reason=verdict.reason,
                    address=self.address,
                    user=user,
                    failures=throttle.failures(self.address),
                    delay=delay / 1000,
                    **({"hint": verdict.hint} if verdict.hint else {}),
                )
                await self.pause_until(throttle.clock.now_ms() + delay)
                self._send_refusal("authentication-failure")
                return
            throttle.succeeded(self.address)
        finally:
            gate.release()
        accepted = codec.aare(
            True,
            mechanism=body.get("mechanism-name"),
            authentication=responding_value(("aarq", body), user),
            user_information=negotiated.user_information,
        )
        self.send(codec.encode_acse(accepted))
        self.state, self.user, self.principal = "associated", user, verdict.principal
        self.signed_in = verdict.account
        self.csta_version = negotiated.version
        self.services.principal = verdict.principal
        self.rights = Rights(self.server.engine.node, verdict.principal)
        self.log = self.log.bind(user=user)
        self.log.info("csta.associated", principal=verdict.principal, version=negotiated.version)
        self._status_invoke = self.next_id()
        self._expect("systemStatus", self._status_invoke)
        self.send_rose(Invoke(self._status_invoke, "systemStatus", {"systemStatus": "normal"}))
        self._keeper = asyncio.create_task(self._keep_alive(), name=f"csta-keepalive-{self.peer}")

    async def _keep_alive(self) -> None:
        """An association the peer has been silent on for ``keepalive_interval`` gets a
        systemStatus(normal) invoke, as CSTA links probe each other; if nothing at all comes
        back within ``keepalive_timeout`` the peer is gone (or stuck) and the association is
        aborted, so idle associations cannot hold the link's connections for ever. On the
        node's clock (tests move it)."""
        interval = round(self.limits.keepalive_interval * 1000)
        timeout = round(self.limits.keepalive_timeout * 1000)
        try:
            while self.associated:
                await self.clock.sleep_until(self.heard_ms + interval)
                if not self.associated or self.clock.now_ms() < self.heard_ms + interval:
                    continue  # heard from it meanwhile
                probed = self.clock.now_ms()
                invoke = self.next_id()
                self._expect("systemStatus", invoke)
                self.send_rose(Invoke(invoke, "systemStatus", {"systemStatus": "normal"}))
                await self.clock.sleep_until(probed + timeout)
                if self.associated and self.heard_ms < probed:
                    self.log.warning("csta.idle_aborted", silent_s=(probed - self.heard_ms) / 1000)
                    self.abort("no-reason-given")
        except Exception:  # the probe is a courtesy: its failure must not take the link down
            self.log.exception("csta.keepalive_failed")

    def _account(self, name: str) -> Account | None:
        return self.server.engine.node.state.accounts.account(name)

    def end_if_signed_out(self) -> None:
        """Abort the association (ABRT authentication-failure) if its account's sign-in no
        longer holds: the account was removed, or its password changed or was reset (an
        administrator's, which must be changed first). The server asks after every change of
        the accounts, as Mosquitto re-checks its clients when the broker reloads."""
        signed = self.signed_in
        if signed is None or not self.associated:
            return
        current = self._account(signed.name)
        if current is signed:
            return
        if current is None:
            reason = "accountRemoved"
        elif current.must_change:
            reason = "passwordReset"
        elif current.password != signed.password or not current.can_sign_in:
            reason = "passwordChanged"
        else:
            return  # another change (name, devices, role): the rights are checked as used
        self.log.warning("csta.association_ended", principal=signed.name, reason=reason)
        self.abort("authentication-failure")

    async def pause_until(self, due_ms: int) -> None:
        """Wait until the throttle's clock reaches ``due_ms``, or the connection closes."""
        clock = self.server.throttle.clock
        if clock.now_ms() >= due_ms or self.state == "closed":
            return
        waits = [
            asyncio.ensure_future(clock.sleep_until(due_ms)),
            asyncio.ensure_future(self._closed.wait()),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def refuse_association(self, diagnostic: str) -> None:
        self.log.warning("csta.association_refused", diagnostic=diagnostic, address=self.address)
        self._send_refusal(diagnostic)

    def _send_refusal(self, diagnostic: str) -> None:
        self.send(codec.encode_acse(codec.aare(False, diagnostic)))
        self.close()

    # -- ROSE ---------------------------------------------------------------------------------
    async def on_rose(self, frame: bytes) -> None:
        try:  # results and errors are matched to our outstanding invokes before decoding
            pdu = codec.decode_rose(frame, self._outstanding)
        except CodecError as exc:
            self.reject(exc.invoke_id, exc.problem, str(exc))
            return
        self._rejects = 0
        if isinstance(pdu, Invoke):
            await self.on_invoke(pdu)
            return
        operation = None if pdu.invoke_id is None else self._outstanding.pop(pdu.invoke_id, None)
        if operation is None:
            # a Reject of something we never invoked (or without invoke id): nothing to settle
            if isinstance(pdu, Reject):
                self.log.warning(
                    "csta.rejected_by_peer", invoke_id=pdu.invoke_id, problem=pdu.problem
                )
            return
        if pdu.invoke_id == self._status_invoke:
            self._status_invoke = None
            self.status_acknowledged.set()
        if isinstance(pdu, ReturnError):
            self.log.warning("csta.peer_error", operation=operation, parameter=pdu.parameter)
        elif isinstance(pdu, Reject):
            self.log.warning(
                "csta.rejected_by_peer",
                operation=operation,
                invoke_id=pdu.invoke_id,
                problem=pdu.problem,
            )

    async def on_invoke(self, pdu: Invoke) -> None:
        operation = str(pdu.opcode)
        self.flush_reports()  # what was committed before this invoke meets today's monitors
        if self.state == "closed":  # its account signed out meanwhile (end_if_signed_out)
            return
        self._answering = True
        try:
            executed = await self.services.invoke(operation, pdu.argument)
        except NotOffered:
            reply: Any = Reject(pdu.invoke_id, ("invoke", "unrecognizedOperation"))
        except ServiceRefused as refused:
            self.log.info("csta.refused", operation=operation, error=str(refused))
            reply = ReturnError(pdu.invoke_id, "universalFailure", refused.parameter)
        except Exception:  # a bug costs this invoke, never the link
            self.log.exception("csta.invoke_crashed", operation=operation)
            reply = ReturnError(pdu.invoke_id, "universalFailure", ("operation", "generic"))
        else:
            # The result, then the reports of the events it caused (applications written for
            # HiPath take the next PDU after their invoke as its answer); reports of what
            # others committed before it still go first.
            # A monitor ended meanwhile is told of right after the result (monitorStop is an
            # invoke: sent before the result, it would be taken for the answer).
            data = self.render_result(pdu.invoke_id, operation, executed)
            self.flush_reports(before=executed.first_seq)
            self.send(data)
            self._answering = False
            self._tell_ended()
            self.flush_reports()
            return
        finally:
            self._answering = False
        self.flush_reports(tell=False)
        self.send(codec.encode_rose(reply))
        self._tell_ended()

    def render_result(self, invoke_id: int, operation: str, executed: Executed) -> bytes:
        """The encoded ReturnResult of a carried-out invoke.

        Once a command was accepted its events are durable: a failure to render or encode the
        result is logged and answered with a ReturnResult without result data (X.880 allows
        it), never a ReturnError that would make the application do the service again.
        """
        try:
            return codec.encode_rose(ReturnResult(invoke_id, operation, executed.result()))
        except Exception:
            self.log.exception("csta.result_failed", operation=operation)
        if executed.accepted:
            return codec.encode_rose(ReturnResult(invoke_id))
        return codec.encode_rose(
            ReturnError(invoke_id, "universalFailure", ("operation", "generic"))
        )

    # -- event reports ------------------------------------------------------------------------
    def on_commit(self, batch: Sequence[Committed]) -> None:
        """A committed batch from the server's follower: only queue, encode later.

        Encoding runs in a callback, so one association's reports do not hold the others up.
        Queued reports are flushed (after catching up with the log) before any invoke is
        handled; while one is carried out they wait, then the reports of what was committed
        before it go out, its result, and the reports of what it caused (specs/csta.md).
        """
        if not self.associated or not len(self.monitors):
            return
        self._unreported.append(batch)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        if not self._answering:  # else they follow the invoke's result
            self.flush_reports()

    def flush_reports(self, before: int | None = None, tell: bool = True) -> None:
        """Write the queued reports (with ``before``: only those of events before that seq).
        A report that cannot be rendered or encoded (a bug) is logged and dropped; the others,
        and every later batch, still go out.

        Monitors revoked on the way are told of (monitorStop) once the queue is written (no
        report of theirs follows a revocation), unless ``tell`` is False or ``before`` is
        given: the flush ahead of an invoke's answer keeps them in ``monitors.ended`` for
        :meth:`on_invoke` to tell after the answer.
        When the account's readable devices changed, every monitor is checked against them
        once the queue is written (before, a call monitor would be checked against the call
        as it is after reports still queued)."""
        self.server.catch_up()
        if self.state == "closed":
            return
        monitors, rights = self.monitors, self.rights
        if rights.refresh():  # the account's devices changed: check every monitor below
            self._recheck = True
        tell = tell and before is None
        while self._unreported and self.state != "closed":
            batch = self._unreported.popleft()
            if before is not None and batch[-1].seq >= before:
                keep = [item for item in batch if item.seq >= before]
                batch = [item for item in batch if item.seq < before]
                self._unreported.appendleft(keep)
            last: dict[int, ev.CallEvent] = {}  # call -> its latest event in the batch
            for item in batch:
                event = item.event
                try:
                    for report in reports(item, monitors, rights):
                        try:
                            self.send_rose(Invoke(self.next_id(), "cSTAEventReport", report))
                        except Exception:
                            self.log.exception("csta.report_unencodable", kind=event.KIND)
                except Exception:
                    self.log.exception("csta.report_failed", kind=event.KIND)
                monitors.followed(event)  # call monitors follow or end, reported or not
                if isinstance(event, ev.CallEvent):
                    last[event.call] = event
            # A call monitor whose account has left the call ends once the batch is written:
            # a decision commits its events in one batch, so a hang-up that ends the call has
            # reported its callCleared by now (and ended the monitor without monitorStop),
            # while one that leaves the others talking ends it here.
            for event in last.values():
                for monitor in rights.left(event, monitors):
                    monitors.revoke(monitor)
            if before is not None and self._unreported and self._unreported[0][0].seq >= before:
                return  # the rest follows the result
        self._unreported.clear()
        if self._recheck and self.state != "closed":
            self._recheck = False
            for monitor in rights.revoked(monitors):
                monitors.revoke(monitor)
        if tell and monitors.ended:
            self._tell_ended()

    def _tell_ended(self) -> None:
        """Invoke monitorStop for each monitor revoked (ECMA-269 Monitor Stop, invoked by the
        switching function): the application learns that no report of it follows."""
        for monitor in self.monitors.take_ended():
            self.log.info(
                "csta.monitor_revoked",
                xref=monitor.xref.hex(),
                device=monitor.device,
                call=monitor.call,
            )
            invoke = self.next_id()
            self._expect("monitorStop", invoke)
            self.send_rose(Invoke(invoke, "monitorStop", {"crossRefIdentifier": monitor.xref}))

    def _expect(self, operation: str, invoke_id: int) -> None:
        """Await the application's answer to our invoke; an application that never answers
        costs at most ``max_monitors`` entries (the oldest are forgotten: a late answer to one
        is then Rejected as unrecognized)."""
        outstanding = self._outstanding
        while len(outstanding) > self.limits.max_monitors:
            del outstanding[next(iter(outstanding))]
        outstanding[invoke_id] = operation

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
        self._closed.set()
        if self._keeper is not None and self._keeper is not asyncio.current_task():
            self._keeper.cancel()
        self.monitors.clear()  # monitors end with their association
        self._unreported.clear()
        if self.writer.is_closing():
            return
        if self.writer.can_write_eof() and self._half_close():
            # Half-close: the peer reads what we sent (an ABRT, say), then EOF. Closing with
            # its bytes unread would make the kernel answer with a RST, which can destroy the
            # ABRT still in flight; the peer gets LINGER seconds to close its side.
            asyncio.get_running_loop().call_later(LINGER, self.writer.close)
        else:
            self.writer.close()

    def _half_close(self) -> bool:
        try:
            self.writer.write_eof()
        except OSError:  # the peer is gone already
            return False
        return True

    async def _drain(self) -> None:
        """After :meth:`close`: drop input until the peer closes too (or LINGER passes)."""
        with contextlib.suppress(ConnectionError, OSError):
            while not self.writer.is_closing() and await self.reader.read(READ_CHUNK):
                pass
        self.writer.close()
