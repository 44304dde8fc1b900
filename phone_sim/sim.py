"""The simulator: every phone the node tells about, kept current from its documents, and the
hands that press their keys. Tests, the scenario runner, the load generator, the console and
the physical-phone bridge all drive phones through :class:`Simulator`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

import structlog

from cti.api.requests import SERVICES
from cti.app.clock import Clock, SystemClock
from cti.kernel.messages import Query
from phone_sim.behaviour import RING_SECONDS, Behaviour
from phone_sim.link.base import Doc, Link, Refusal
from phone_sim.model import actions, display, lamps
from phone_sim.model.actions import NotPossible, plan
from phone_sim.model.phone import PHONE_KINDS, Phone
from phone_sim.model.rooms import Rooms

log = structlog.get_logger(__name__)


def is_query(service: str) -> bool:
    """Whether ``service`` only reads the node (a query: it logs no event)."""
    cls = SERVICES.get(service)
    return isinstance(cls, type) and issubclass(cls, Query)


Predicate = Callable[[], bool]


class Simulator:
    def __init__(self, link: Link, clock: Clock | None = None, *, timeout: float = 5.0) -> None:
        self.link = link
        self.clock = clock or SystemClock()
        self.timeout = timeout
        self.phones: dict[str, Phone] = {}
        self.directory: dict[str, str] = {}  # number -> name, from the node's device states
        self.kinds: dict[str, str] = {}
        self.summaries: dict[str, str] = {}  # number -> CALL-11 summary (BLF)
        self.owners: dict[str, str] = {}  # mobile number -> mobility user (CALL-15)
        self.behaviours: dict[str, Behaviour] = {}
        self.rooms = Rooms()  # application conferences: the seats' display notices
        self.notices: dict[int, str] = {}  # call -> notice, shared by every phone
        self.seq = 0  # the newest log position any document showed
        self.watchers: list[Callable[[set[str]], None]] = []  # told which phones changed
        # Told each request's service and seconds from sending it to seeing all its events.
        self.on_request: Callable[[str, float], None] | None = None
        self._waiters: list[tuple[Predicate, asyncio.Future[None]]] = []
        self._reacting: set[tuple[str, int]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        link.listen(self._on_events, self._on_state)

    async def start(self) -> None:
        await self.link.start()
        await self._learn_running_calls()
        await self._learn_presence()

    async def _learn_presence(self) -> None:
        """The presence of the phones' users (PRES-01) and their message-waiting lamps (VM-02):
        events only tell what changes next."""
        for number, phone in sorted(self.phones.items()):
            if phone.kind not in PHONE_KINDS:
                continue
            try:
                reply = await self.link.request("getPresence", {"user": number})
            except (ConnectionError, TimeoutError):
                return
            if reply.get("ok"):
                phone.on_presence(reply["result"])
            try:  # VM-02: the lamp of a user with a mailbox (refused: none)
                reply = await self.link.request("getMailbox", {"user": number})
            except (ConnectionError, TimeoutError):
                return
            if reply.get("ok"):
                phone.message_waiting = reply["result"]["new"] > 0
                phone.new_messages = reply["result"]["new"]

    async def _learn_running_calls(self) -> None:
        """Calls that were up before we connected: events only tell what changes next."""
        calls = {c for phone in self.phones.values() for c in phone.state_calls}
        for call in sorted(calls):
            try:
                reply = await self.link.request("snapshotCall", {"call": call})
            except (ConnectionError, TimeoutError):
                return
            if reply.get("ok"):
                for conn in reply["result"]:
                    self.phone(conn["device"]).on_snapshot(call, reply["result"])

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.link.close()

    # -- phones -------------------------------------------------------------------------------
    def phone(self, number: str) -> Phone:
        found = self.phones.get(number)
        if found is None:
            kind = self.kinds.get(number)
            if kind is None and number.startswith("+"):
                kind = "mobile" if number in self.owners else "external"
            found = self.phones[number] = Phone(number, kind or "system_phone")
            found.name = self.directory.get(number, "")
            found.notices = self.notices
        return found

    def display(self, number: str) -> tuple[str, str]:
        return display.render(self.phone(number), self.directory)

    def keys(self, number: str) -> list[str]:
        phone = self.phone(number)
        if phone.kind != "system_phone":
            return []
        return lamps.default_keys(phone, self.directory, self.kinds)

    def lamp(self, number: str, key: str) -> str:
        return lamps.lamp(self.phone(number), key, self.summaries)

    def set_behaviour(self, number: str, behaviour: Behaviour) -> None:
        self.behaviours[number] = behaviour

    # -- what the node tells ------------------------------------------------------------------
    def _on_events(self, docs: list[Doc]) -> None:
        changed: set[str] = set()
        for doc in docs:
            self.seq = max(self.seq, doc["seq"])
            if "connections" in doc:
                devices = {c["device"] for c in doc["connections"]}
                call, secondary = doc["call"], doc.get("secondaryCall")
                devices.update(
                    n for n, ph in self.phones.items() if call in ph.legs or secondary in ph.legs
                )
            elif self.rooms.on_event(doc):
                # A room's event: the notices of the phones on its seats (calls) change.
                before = dict(self.notices)
                self.notices.clear()
                self.notices.update(self.rooms.notices())
                now = self.notices
                calls = {c for c in {*before, *now} if before.get(c) != now.get(c)}
                changed |= {n for n, ph in self.phones.items() if calls & set(ph.legs)}
                continue
            else:
                # A feature event names its device; a presence event its user (a number); a
                # voicemail event its mailbox (the user's number, VM-02).
                number = doc.get("device") or doc.get("user") or doc.get("mailbox")
                if not isinstance(number, str):
                    continue  # an account's event (profileChanged): nothing a phone shows
                devices = {number}
            for number in devices:
                self.phone(number).on_event(doc)
            changed |= devices
        self._react(changed)
        self._notify(changed)

    def _on_state(self, doc: Doc) -> None:
        number = doc["device"]
        self.seq = max(self.seq, doc["seq"])
        phone = self.phone(number)
        phone.on_state(doc)  # ignores a state older than the one it has
        # The site-wide views follow the phone, so lamps and statuses never disagree.
        self.directory[number], self.kinds[number] = phone.name, phone.kind
        self.summaries[number] = phone.summary
        if phone.mobile:
            self.owners[phone.mobile] = number
            self.directory.setdefault(phone.mobile, phone.name)
        self._notify({number})

    def _notify(self, changed: set[str]) -> None:
        for predicate, future in list(self._waiters):
            if not future.done():
                try:
                    if predicate():
                        future.set_result(None)
                except Exception as exc:  # a broken predicate fails its waiter, not the link
                    future.set_exception(exc)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]
        for watcher in self.watchers:
            watcher(changed)

    async def until(self, predicate: Predicate, timeout: float | None = None) -> None:
        """Return once ``predicate`` holds; re-checked on every document, never polled."""
        if predicate():
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        await asyncio.wait_for(future, self.timeout if timeout is None else timeout)

    # -- hands ----------------------------------------------------------------------------------
    async def request(self, service: str, **fields: Any) -> Any:
        """Send a request; return its result once every event it caused has been seen."""
        started = time.perf_counter()
        reply = await self.link.request(service, fields)
        if not reply.get("ok"):
            error = reply.get("error") or {}
            raise Refusal(error.get("code", "generic"), error.get("message", ""))
        # A query causes no event, and a command whose events are all internal publishes
        # none ("published": false): nothing to wait for (their seq is a log position no
        # published event may ever show).
        unseen = is_query(service) or reply.get("published") is False
        seq = 0 if unseen else reply.get("seq") or 0
        try:
            await self.until(lambda: self.seq >= seq)
        except TimeoutError:
            log.warning("phone_sim.events_late", service=service, seq=seq, seen=self.seq)
        if self.on_request is not None:
            self.on_request(service, time.perf_counter() - started)
        return reply.get("result") or {}

    async def act(self, number: str, verb: str, *args: str) -> dict[str, Any]:
        """A person at ``number`` does ``verb`` (see specs/phone-sim.md); raises Refusal."""
        phone = self.phone(number)
        if verb == "redials":
            args = tuple((await self.redial_list(number))[:1])
        elif verb == "presence":  # "for 90m": the return time by the simulator's clock
            args = actions.absolute_return(list(args), self.clock.now_ms())
        elif verb == "sends":  # DTMF: only the voicemail's menu listens (specs/phone-sim.md)
            args = (*args, *(n for n, k in self.kinds.items() if k == "voicemail"))
        elif verb == "speaks":  # VM-01: a WAV file, or a tone of that many seconds
            args = (await asyncio.to_thread(actions.speech, list(args)),)
        try:
            requests = plan(phone, verb, list(args), self.summaries)
        except NotPossible as exc:
            raise Refusal(exc.code, exc.message) from None
        result: dict[str, Any] = {}
        for req in requests:
            lifted = req.lifts and not phone.handset
            if lifted:
                phone.handset = True
            try:
                result = await self.request(req.service, **req.fields)
            except Refusal:
                if lifted and not phone.off_hook:
                    phone.handset = False
                raise
            if req.service == "dial" and phone.active is not None:
                phone.active.digits = req.fields["digits"]
        return result

    async def redial_list(self, number: str) -> list[str]:
        """CALL-02: the numbers the user dialled last, newest first (kept by the node)."""
        result = await self.request("redialList", device=number)
        return list(result["numbers"])

    # -- trunk parties and automatic users ------------------------------------------------------
    def _react(self, changed: set[str]) -> None:
        for number in changed:
            phone = self.phones[number]
            while phone.playing:  # VM-04, the menu: take the audio the voicemail plays
                call, sha = phone.playing.pop(0)
                self._spawn(number, -call, self._listen(number, call, sha))
            behaviour = self.behaviours.get(number)
            if behaviour is None:
                continue
            leg = phone.alerting
            if leg is not None and behaviour.answer_after is not None:
                # The rings count from now, when the call was seen ringing, not from whenever
                # the task first runs (switch time may have moved on by then).
                due = self.clock.now_ms() + int(behaviour.answer_after * RING_SECONDS * 1000)
                self._spawn(number, leg.call, self._answer_later(number, leg.call, behaviour, due))

    def _spawn(self, number: str, call: int, coro: Any) -> None:
        key = (number, call)
        if key in self._reacting:
            coro.close()
            return
        self._reacting.add(key)
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            self._reacting.discard(key)

        task.add_done_callback(done)

    async def _listen(self, number: str, call: int, sha256: str) -> None:
        """Fetch what the voicemail plays to ``number`` on ``call``: heard when its bytes are
        exactly the recording the node named (their SHA-256)."""
        try:
            result = await self.request("fetchVoicemailAudio", call=call, device=number)
        except (Refusal, ConnectionError, TimeoutError) as exc:
            log.info("phone_sim.audio_not_fetched", device=number, call=call, error=str(exc))
            return
        data = base64.b64decode(result["audio"])
        if hashlib.sha256(data).hexdigest() == sha256:
            self.phone(number).heard.append(sha256)
        else:
            log.warning("phone_sim.audio_differs", device=number, call=call)
        self._notify({number})

    async def _answer_later(
        self, number: str, call: int, behaviour: Behaviour, due_ms: int
    ) -> None:
        await self.clock.sleep_until(due_ms)
        phone = self.phone(number)
        leg = phone.legs.get(call)
        if leg is None or leg.state != "alerting":
            return
        try:
            await self.act(number, "answers")
        except (Refusal, ConnectionError, TimeoutError) as exc:
            log.info("phone_sim.auto_answer_failed", device=number, call=call, error=str(exc))
            return
        if behaviour.hang_up_after is not None:
            await self.clock.sleep_until(self.clock.now_ms() + int(behaviour.hang_up_after * 1000))
            if phone.off_hook:  # the call may have been merged into another one meanwhile
                with contextlib.suppress(Refusal, ConnectionError, TimeoutError):
                    await self.act(number, "hangs-up")

    async def occupy(self, number: str) -> None:
        """A busy line: the party is off-hook on a call of its own."""
        phone = self.phone(number)
        if not phone.off_hook:
            await self.act(number, "lifts")

    async def learn(self, number: str) -> None:
        """Calls of ``number`` the simulator has not seen start (a trunk party has no state
        topic, so a call it was left in by an earlier run is only known by asking)."""
        result = await self.request("snapshotDevice", device=number)
        for row in result:
            if row["call"] not in self.phone(number).legs:
                snapshot = await self.request("snapshotCall", call=row["call"])
                for conn in snapshot:
                    self.phone(conn["device"]).on_snapshot(row["call"], snapshot)
