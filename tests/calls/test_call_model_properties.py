"""Stateful property test of the call model (CALL-03..CALL-16).

Hypothesis drives random sequences of services and phone actions over phones of every kind,
a MULAP group, a mobility user and trunk parties, and checks after every step that the model
holds together: device index and calls agree, no call outlives its parties, conferences stay
within 8, events only name connections that exist, refusals change nothing, every call that
disappears was cleared or merged, the services offered on a connection are accepted, and the
log replays (also through a snapshot) to the same state.
"""

from __future__ import annotations

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cti.app.node import Accepted, Committed, replay
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.errors import CstaError
from cti.calls.services.allowed import allowed_services
from cti.calls.state import SwitchState
from cti.calls.values import ConnectionState as CS
from cti.calls.values import ForwardingType
from cti.domain import decide, snapshot
from tests.office import Office

PHONES = ["330", "331", "332", "333", "334", "335", "337", "338"]
EXTERNALS = ["+4930111111", "+4930222222", "+491701234567"]
DEVICES = PHONES + EXTERNALS + ["351"]
NUMBERS = [*PHONES, "340", "351", "390", "+49 30 111111", "030 222222", "999"]
phones = st.sampled_from(PHONES)
devices = st.sampled_from(DEVICES)
numbers = st.sampled_from(NUMBERS)
JOINERS = {
    ev.ServiceInitiated: ("device",),
    ev.Delivered: ("alerting",),
    ev.Established: ("answering",),
}


def check_events(before: SwitchState, committed: tuple[Committed, ...]) -> None:
    """No event references a connection that does not exist (or is not being created)."""
    state = before
    for item in committed:
        event = item.event
        if isinstance(event, ev.CallEvent):
            known: set[str] = set()
            for cid in (event.call, getattr(event, "secondary_call", None)):
                call = state.call(cid) if cid is not None else None
                if call is not None:
                    known.update(p.device for p in call.parties)
            joining = {getattr(event, f) for f in JOINERS.get(type(event), ())}
            leaving_ok = {getattr(event, f, None) for f in ("failing", "diverting")}
            for entry in event.local:
                if entry.state is CS.NULL:
                    assert entry.device in known | leaving_ok, (event, known)
                else:
                    assert entry.device in known | joining, (event, known)
            for f in ("device",):
                if isinstance(event, ev.Held | ev.Retrieved | ev.ConnectionCleared):
                    assert getattr(event, f) in known, event
        from cti.calls.evolve import evolve

        state = evolve(state, event)


class CallModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.office = Office()
        self.node = self.office.node

    # -- helpers ------------------------------------------------------------------------
    def run(self, command: c.Command) -> None:
        before = self.node.state
        seq = self.office.store.last_seq()
        outcome = self.node.execute(command)
        event(f"{'accepted' if outcome.ok else 'refused'} {command.SERVICE}")
        if isinstance(outcome, Accepted):
            check_events(before.calls, outcome.events)
            gone = set(before.calls.calls) - set(self.node.state.calls.calls)
            ended = {x.event.call for x in outcome.events if isinstance(x.event, ev.CallCleared)}
            merged = {
                x.event.secondary_call
                for x in outcome.events
                if isinstance(x.event, ev.Transferred | ev.Conferenced)
            }
            assert gone <= ended | merged, (gone, ended, merged)
        else:
            assert self.node.state is before and self.office.store.last_seq() == seq

    def some_call(self, data: st.DataObject) -> int:
        ids = sorted(self.node.state.calls.calls) or [1]
        return data.draw(st.sampled_from([*ids, max(ids) + 1]))

    # -- rules --------------------------------------------------------------------------
    @rule(calling=st.sampled_from([*PHONES, "340", "336"]), called=numbers)
    def make_call(self, calling: str, called: str) -> None:
        self.run(c.MakeCall(calling=calling, called=called))

    @rule(device=devices, data=st.data())
    def answer(self, device: str, data: st.DataObject) -> None:
        self.run(c.AnswerCall(call=self.some_call(data), device=device))

    @rule(device=devices, data=st.data())
    def clear_connection(self, device: str, data: st.DataObject) -> None:
        self.run(c.ClearConnection(call=self.some_call(data), device=device))

    @rule(data=st.data())
    def clear_call(self, data: st.DataObject) -> None:
        self.run(c.ClearCall(call=self.some_call(data)))

    @rule(device=phones, data=st.data(), retrieve=st.booleans())
    def hold_or_retrieve(self, device: str, data: st.DataObject, retrieve: bool) -> None:
        cls = c.RetrieveCall if retrieve else c.HoldCall
        self.run(cls(call=self.some_call(data), device=device))

    @rule(device=phones, data=st.data(), to=numbers)
    def consult(self, device: str, data: st.DataObject, to: str) -> None:
        self.run(c.ConsultationCall(call=self.some_call(data), device=device, consulted=to))

    @rule(
        device=phones,
        kind=st.sampled_from([c.AlternateCall, c.ReconnectCall, c.TransferCall, c.ConferenceCall]),
    )
    def two_calls(self, device: str, kind: type[c.TwoCallCommand]) -> None:
        self.run(kind(device=device))

    @rule(device=devices, data=st.data(), to=numbers, deflect=st.booleans())
    def redirect(self, device: str, data: st.DataObject, to: str, deflect: bool) -> None:
        cls = c.DeflectCall if deflect else c.SingleStepTransferCall
        self.run(cls(call=self.some_call(data), device=device, to=to))

    @rule(device=phones, picked=phones, group=st.booleans())
    def pickup(self, device: str, picked: str, group: bool) -> None:
        if group:
            self.run(c.GroupPickupCall(device=device))
        else:
            self.run(c.DirectedPickupCall(picked=picked, device=device))

    @rule(
        device=phones,
        kind=st.sampled_from(list(ForwardingType)),
        on=st.booleans(),
        to=st.sampled_from(["330", "331", "332", "351", "+4930111111"]),
    )
    def forwarding(self, device: str, kind: ForwardingType, on: bool, to: str) -> None:
        ring = 5 if kind is ForwardingType.NO_ANSWER else None
        self.run(
            c.SetForwarding(
                device=device, forwarding_type=kind, on=on, destination=to, ring_time=ring
            )
        )

    @rule(device=phones, on=st.booleans())
    def dnd(self, device: str, on: bool) -> None:
        self.run(c.SetDoNotDisturb(device=device, on=on))

    @rule(device=devices, action=st.sampled_from(["off", "on"]))
    def hook(self, device: str, action: str) -> None:
        self.run(c.OffHook(device=device) if action == "off" else c.OnHook(device=device))

    @rule(device=devices, digits=numbers)
    def dial(self, device: str, digits: str) -> None:
        self.run(c.Dial(device=device, digits=digits))

    @precondition(lambda self: bool(self.node.state.calls.calls))
    @rule(data=st.data(), to=numbers)
    def use_an_offered_service(self, data: st.DataObject, to: str) -> None:
        """What a UI user does: press one of the buttons offered on a connection (CALL-12)."""
        state = self.node.state.calls
        parties = [(call, p.device) for call in state.calls.values() for p in call.parties]
        call, device = data.draw(st.sampled_from(parties))
        offered = allowed_services(self.office.site, state, device, call)
        service = data.draw(st.sampled_from(offered))
        command = probe(service, call.id, device, state)
        if command is None:
            cls = {
                "consultationCall": c.ConsultationCall,
                "deflectCall": c.DeflectCall,
                "singleStepTransferCall": c.SingleStepTransferCall,
            }[service]
            field = "consulted" if service == "consultationCall" else "to"
            command = cls(call=call.id, device=device, **{field: to})  # type: ignore[arg-type]
        self.run(command)

    @precondition(lambda self: bool(self.node.state.calls.calls))
    @rule(data=st.data(), to=numbers)
    def press_another_button(self, data: st.DataObject, to: str) -> None:
        self.use_an_offered_service(data, to)  # twice the weight: deep states need many steps

    @precondition(
        lambda self: any(
            p.state is CS.ALERTING
            for call in self.node.state.calls.calls.values()
            for p in call.parties
        )
    )
    @rule(data=st.data())
    def answer_a_ringing_phone(self, data: st.DataObject) -> None:
        ringing = [
            (call.id, p.device)
            for call in self.node.state.calls.calls.values()
            for p in call.parties
            if p.state is CS.ALERTING
        ]
        call, device = data.draw(st.sampled_from(ringing))
        self.run(c.AnswerCall(call=call, device=device))

    @precondition(lambda self: bool(self.node.state.calls.timers))
    @rule(seconds=st.integers(1, 10))
    def time_passes(self, seconds: int) -> None:
        self.office.clock.advance(seconds)
        before = self.node.state
        for outcome in self.node.fire_due_timers():
            assert outcome.ok
        assert all(
            due > self.office.clock.now_ms() for due in self.node.state.calls.timers.values()
        )
        del before

    # -- invariants ---------------------------------------------------------------------
    @invariant()
    def index_matches_calls(self) -> None:
        state = self.node.state.calls
        for call in state.calls.values():
            devices_in_call = [p.device for p in call.parties]
            assert len(devices_in_call) == len(set(devices_in_call))
            assert all(p.state is not CS.NULL for p in call.parties)
            for p in call.parties:
                assert call.id in state.device(p.device).calls
        for number, runtime in state.devices.items():
            assert not runtime.is_default()
            assert len(runtime.calls) == len(set(runtime.calls))
            for cid in runtime.calls:
                assert state.calls[cid].state_of(number) is not CS.NULL

    @invariant()
    def calls_have_parties(self) -> None:
        for call in self.node.state.calls.calls.values():
            states = [p.state for p in call.parties]
            assert len(states) <= 8, "conference limit"
            if len(states) >= 2:
                assert any(s in (CS.CONNECTED, CS.HOLD) for s in states), call
            else:
                lone = {CS.INITIATED, CS.FAIL} | ({CS.ALERTING} if call.pending else set())
                assert states[0] in lone, call

    @invariant()
    def timers_belong_to_ringing_connections(self) -> None:
        state = self.node.state.calls
        for call_id, device, _ in state.timers:
            call = state.call(call_id)
            assert call is not None and call.state_of(device) is CS.ALERTING

    @invariant()
    def offered_services_are_accepted(self) -> None:
        node, site = self.node.state, self.office.site
        state = node.calls
        now = self.office.clock.now_ms()
        for call in state.calls.values():
            for party in call.parties:
                for service in allowed_services(site, state, party.device, call):
                    command = probe(service, call.id, party.device, state)
                    if command is not None:
                        try:
                            decide(site, node, command, now)
                        except CstaError as err:  # pragma: no cover - a failure message
                            raise AssertionError(f"{service} offered but {err}") from err

    def teardown(self) -> None:
        state = self.node.state
        assert replay(self.office.store, use_snapshot=False) == state
        assert snapshot.decode(snapshot.encode(state)) == state
        self.node.snapshot()
        assert replay(self.office.store) == state


def probe(service: str, call: int, device: str, state: SwitchState) -> c.Command | None:
    """The command a UI would send for an offered button (None: needs a destination)."""
    held = [x.id for x in state.with_state(device, CS.HOLD)]
    active = state.active_call(device)
    other_held = next((h for h in held if h != call), None)
    if service == "answerCall":
        return c.AnswerCall(call=call, device=device)
    if service == "holdCall":
        return c.HoldCall(call=call, device=device)
    if service == "retrieveCall":
        return c.RetrieveCall(call=call, device=device)
    if service == "clearConnection":
        return c.ClearConnection(call=call, device=device)
    if service in ("alternateCall", "transferCall", "conferenceCall", "reconnectCall"):
        cls = {
            "alternateCall": c.AlternateCall,
            "transferCall": c.TransferCall,
            "conferenceCall": c.ConferenceCall,
            "reconnectCall": c.ReconnectCall,
        }[service]
        if call in held:
            assert active is not None
            return cls(device=device, held_call=call, active_call=active.id)
        return cls(device=device, held_call=other_held, active_call=call)
    return None


TestCallModel = CallModel.TestCase
