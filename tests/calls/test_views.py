"""Device connection-state summaries (CALL-11) and allowed services per connection (CALL-12).

The views are computed from the node state of the example office (tests/office.py), driven by
the same commands a UI or phone would send.
"""

from __future__ import annotations

import pytest

from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.values import Cause, ConnectionState, ForwardingType, TimerPurpose
from cti.calls.views import (
    ConnectionView,
    DeviceView,
    Summary,
    device_view,
    touched_devices,
)
from tests.office import Office

EXTERNAL = "+4930123456"
MOBILE = "+491701234567"
CS = ConnectionState


def view(office: Office, device: str) -> DeviceView:
    return device_view(office.site, office.state, device)


def conn(office: Office, device: str, call: int) -> ConnectionView:
    [found] = [x for x in view(office, device).connections if x.call == call]
    return found


def consultation(office: Office, *, answered: bool) -> tuple[int, int]:
    """330 talks to 331, consults 332 (who answers if ``answered``): (held call, consult call)."""
    held = office.talking("330", "331")
    consult = office.call_of(c.ConsultationCall(call=held, device="330", consulted="332"))
    if answered:
        office.do(c.AnswerCall(call=consult, device="332"))
    return held, consult


# -- one summary per Summary value (CALL-11) ---------------------------------------------------


def test_idle_device(office: Office) -> None:
    """CALL-11: a device without connections and without DND is idle."""
    v = view(office, "330")
    assert v == DeviceView(
        device="330", summary=Summary.IDLE, connections=(), dnd=False, forwarding=()
    )


def test_incoming_internal(office: Office) -> None:
    """CALL-11: 331 ringing from internal 330 is incoming-internal, with the caller's name."""
    call = office.call_of(c.MakeCall(calling="330", called="331"))
    v = view(office, "331")
    assert v.summary is Summary.INCOMING_INTERNAL
    [x] = v.connections
    assert (x.call, x.state, x.peer, x.peer_name, x.parties) == (
        call,
        CS.ALERTING,
        "330",
        "Anna Berger",
        ("330",),
    )
    assert x.summary is Summary.INCOMING_INTERNAL


def test_incoming_external(office: Office) -> None:
    """CALL-11: a trunk party dialling in makes the called phone incoming-external."""
    call = office.call_of(c.Dial(device=EXTERNAL, digits="+49 89 7007 331"))
    v = view(office, "331")
    assert v.summary is Summary.INCOMING_EXTERNAL
    [x] = v.connections
    assert (x.call, x.peer, x.peer_name, x.parties) == (call, EXTERNAL, None, (EXTERNAL,))


def test_outgoing_while_destination_rings(office: Office) -> None:
    """CALL-11: the caller is 'calling' (outgoing) while 331 rings."""
    office.call_of(c.MakeCall(calling="330", called="331"))
    v = view(office, "330")
    assert v.summary is Summary.OUTGOING
    [x] = v.connections
    assert (x.state, x.peer, x.peer_name) == (CS.CONNECTED, "331", "Bernd Vogel")


def test_failed_call_is_outgoing(office: Office) -> None:
    """CALL-11: a caller whose call failed (busy) is still 'calling' until it hangs up."""
    office.talking("331", "332")
    call = office.call_of(c.MakeCall(calling="330", called="331"))
    v = view(office, "330")
    assert v.summary is Summary.OUTGOING
    [x] = v.connections
    assert (x.call, x.state, x.peer, x.parties) == (call, CS.FAIL, None, ())
    assert x.allowed == ("clearConnection",)
    office.do(c.OnHook(device="330"))
    assert view(office, "330").summary is Summary.IDLE


def test_talking_internal(office: Office) -> None:
    """CALL-11: both ends of an answered internal call are talking-internal."""
    office.talking("330", "331")
    assert view(office, "330").summary is Summary.TALKING_INTERNAL
    assert view(office, "331").summary is Summary.TALKING_INTERNAL
    assert conn(office, "331", 1).peer == "330"
    assert conn(office, "330", 1).peer_name == "Bernd Vogel"


def test_talking_external(office: Office) -> None:
    """CALL-11: talking to a trunk party is talking-external, in both directions."""
    call = office.call_of(c.MakeCall(calling="330", called="0 030 123456"))  # dialable form
    office.do(c.AnswerCall(call=call, device=EXTERNAL))
    assert view(office, "330").summary is Summary.TALKING_EXTERNAL
    assert conn(office, "330", 1).peer == EXTERNAL
    office2 = Office()
    call = office2.call_of(c.Dial(device=EXTERNAL, digits="331"))
    office2.do(c.AnswerCall(call=call, device="331"))
    assert view(office2, "331").summary is Summary.TALKING_EXTERNAL


def test_held_only(office: Office) -> None:
    """CALL-11: a device whose only call is on hold is 'held'; its partner still talks."""
    call = office.talking("330", "331")
    office.do(c.HoldCall(call=call, device="330"))
    v = view(office, "330")
    assert v.summary is Summary.HELD
    [x] = v.connections
    assert (x.state, x.peer, x.summary) == (CS.HOLD, "331", Summary.HELD)
    assert "retrieveCall" in x.allowed
    assert view(office, "331").summary is Summary.TALKING_INTERNAL


def test_call_12_the_buttons_of_a_talking_and_of_a_consulting_device(office: Office) -> None:
    """CALL-12: the exact services offered, in their stable order: on a plain talking
    connection, then on both calls of a device that consults (held and active)."""
    office.talking("330", "331")
    assert conn(office, "330", 1).allowed == (
        "holdCall",
        "consultationCall",
        "singleStepTransferCall",
        "clearConnection",
    )
    office.do(c.ConsultationCall(call=1, device="330", consulted="332"))
    office.do(c.AnswerCall(call=2, device="332"))
    two = ("alternateCall", "transferCall", "conferenceCall", "reconnectCall")
    assert conn(office, "330", 1).allowed == ("clearConnection", *two)
    assert conn(office, "330", 2).allowed == ("singleStepTransferCall", "clearConnection", *two)


def test_dnd_when_idle_and_talking_wins_over_dnd(office: Office) -> None:
    """CALL-11, CALL-16: an idle device with DND shows dnd; a call beats DND, the flag stays."""
    office.do(c.SetDoNotDisturb(device="332", on=True))
    v = view(office, "332")
    assert (v.summary, v.dnd, v.connections) == (Summary.DND, True, ())
    office.talking("332", "331")
    v = view(office, "332")
    assert (v.summary, v.dnd) == (Summary.TALKING_INTERNAL, True)
    office.do(c.SetDoNotDisturb(device="332", on=False))
    office.do(c.ClearCall(call=1))
    assert view(office, "332").summary is Summary.IDLE


def test_forwarding_is_listed(office: Office) -> None:
    """CALL-16: the view lists the device's forwardings as (type, destination, ring time)."""
    office.do(
        c.SetForwarding(
            device="330",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="351",
            ring_time=20,
        )
    )
    office.do(
        c.SetForwarding(
            device="330", forwarding_type=ForwardingType.BUSY, on=True, destination="332"
        )
    )
    v = view(office, "330")
    assert v.summary is Summary.IDLE
    assert sorted(v.forwarding) == [("forwardBusy", "332", 0), ("forwardNoAns", "351", 20)]


# -- several connections: the most urgent one names the summary --------------------------------


def test_held_and_talking_is_talking(office: Office) -> None:
    """CALL-11, CALL-12: held + answered consultation shows talking, the held call shows held."""
    held, consult = consultation(office, answered=True)
    v = view(office, "330")
    assert v.summary is Summary.TALKING_INTERNAL
    assert [(x.call, x.summary) for x in v.connections] == [
        (held, Summary.HELD),
        (consult, Summary.TALKING_INTERNAL),
    ]


def test_held_and_calling_is_outgoing(office: Office) -> None:
    """CALL-11: held + consultation still ringing shows outgoing."""
    held, consult = consultation(office, answered=False)
    v = view(office, "330")
    assert v.summary is Summary.OUTGOING
    assert [(x.call, x.summary) for x in v.connections] == [
        (held, Summary.HELD),
        (consult, Summary.OUTGOING),
    ]


def test_ringing_wins_over_talking_and_held(office: Office) -> None:
    """CALL-11, CALL-10: 330 rings (from 331) and picks up another call: ringing beats talking;
    after holding the picked-up call, ringing beats held."""
    ringing = office.call_of(c.MakeCall(calling="331", called="330"))
    office.call_of(c.Dial(device=EXTERNAL, digits="332"))
    picked = office.call_of(c.DirectedPickupCall(picked="332", device="330"))
    v = view(office, "330")
    assert v.summary is Summary.INCOMING_INTERNAL
    assert {x.call: x.summary for x in v.connections} == {
        ringing: Summary.INCOMING_INTERNAL,
        picked: Summary.TALKING_EXTERNAL,
    }
    # Busy on the picked-up call: the ringing call cannot be answered, only deflected.
    assert "answerCall" not in conn(office, "330", ringing).allowed
    assert "deflectCall" in conn(office, "330", ringing).allowed
    office.do(c.HoldCall(call=picked, device="330"))
    v = view(office, "330")
    assert v.summary is Summary.INCOMING_INTERNAL
    assert {x.call: x.summary for x in v.connections} == {
        ringing: Summary.INCOMING_INTERNAL,
        picked: Summary.HELD,
    }
    assert "answerCall" in conn(office, "330", ringing).allowed


# -- peers and names ----------------------------------------------------------------------------


def test_peer_after_consultation_transfer(office: Office) -> None:
    """CALL-07: after a transfer each side shows the real remaining peer, by name."""
    consultation(office, answered=True)
    office.do(c.TransferCall(device="330"))
    assert view(office, "330").summary is Summary.IDLE
    x331, x332 = conn(office, "331", 1), conn(office, "332", 1)
    assert (x331.peer, x331.peer_name) == ("332", "Clara Wolf")
    assert (x332.peer, x332.peer_name) == ("331", "Bernd Vogel")
    assert x331.summary is x332.summary is Summary.TALKING_INTERNAL


def test_ringing_after_single_step_transfer_shows_remaining_peer(office: Office) -> None:
    """CALL-07, CALL-11: 330 talks to an external party and hands it on (single step) to 331:
    331 rings from the external party, not from 330, who left (the delivered event says so)."""
    office.talking("330", EXTERNAL)
    events = office.do(c.SingleStepTransferCall(call=1, device="330", to="331"))
    assert f"calling={EXTERNAL}" in events[-1]
    x = conn(office, "331", 1)
    assert x.parties == (EXTERNAL,)
    assert (x.peer, x.summary) == (EXTERNAL, Summary.INCOMING_EXTERNAL)


def test_ringing_after_transfer_shows_remaining_peer(office: Office) -> None:
    """CALL-07, CALL-11: 330 transfers 331 to 332 while 332 still rings: 332's peer is 331."""
    consultation(office, answered=False)
    office.do(c.TransferCall(device="330"))
    x = conn(office, "332", 1)
    assert x.parties == ("331",)
    assert (x.peer, x.peer_name) == ("331", "Bernd Vogel")


def test_mulap_members_show_the_group_call(office: Office) -> None:
    """CALL-14: a call to MULAP 340 rings both members; each shows it as incoming from 330; the
    member that answers talks, the other goes idle (the MULAP number: the next test)."""
    call = office.call_of(c.MakeCall(calling="330", called="340"))
    for member, other in (("337", "338"), ("338", "337")):
        v = view(office, member)
        assert v.summary is Summary.INCOMING_INTERNAL
        [x] = v.connections
        assert (x.call, x.peer, x.peer_name) == (call, "330", "Anna Berger")
        assert set(x.parties) == {"330", other}
        assert x.allowed[0] == "answerCall"
    caller = conn(office, "330", call)
    assert (caller.summary, set(caller.parties)) == (Summary.OUTGOING, {"337", "338"})
    office.do(c.AnswerCall(call=call, device="338"))
    assert view(office, "338").summary is Summary.TALKING_INTERNAL
    assert conn(office, "338", call).peer == "330"
    assert view(office, "337").summary is Summary.IDLE


def test_the_mulap_number_summarises_its_group_calls(office: Office) -> None:
    """CALL-14, CALL-11 (issue 18 item 9): the MULAP number's own view shows the group's
    calls, each once, on the member phone that has it (``via``, as a mobile's for CALL-15):
    ringing while members ring for a call to the group, talking once one answered, outgoing
    for a call made as the group; a member's own call (dialled to the phone) is not the
    group's. Its retained state follows: a member's events touch the MULAP number."""
    assert view(office, "340").summary is Summary.IDLE
    call = office.call_of(c.MakeCall(calling="330", called="340"))
    v = view(office, "340")
    assert v.summary is Summary.INCOMING_INTERNAL
    [x] = v.connections
    assert (x.call, x.state, x.via, x.peer, x.peer_name) == (
        call, CS.ALERTING, "337", "330", "Anna Berger"
    )  # fmt: skip
    assert x.allowed == conn(office, "337", call).allowed  # requests name the phone (via)
    outcome = office.node.execute(c.AnswerCall(call=call, device="338"))
    assert outcome.ok
    assert "340" in touched_devices((e.event for e in outcome.events), office.site)
    [x] = view(office, "340").connections
    assert (x.state, x.via, x.peer, x.summary) == (
        CS.CONNECTED, "338", "330", Summary.TALKING_INTERNAL
    )  # fmt: skip
    assert view(office, "340").summary is Summary.TALKING_INTERNAL
    office.do(c.ClearConnection(call=call, device="338"))
    assert view(office, "340") == DeviceView(
        device="340",
        summary=Summary.IDLE,
        connections=(),
        dnd=False,
        forwarding=(),
        assigned_phone="337",
    )
    direct = office.call_of(c.MakeCall(calling="331", called="337"))  # the phone, not 340
    assert view(office, "337").summary is Summary.INCOMING_INTERNAL
    assert view(office, "340").summary is Summary.IDLE
    office.do(c.ClearCall(call=direct))
    made = office.call_of(c.MakeCall(calling="340", called="331"))  # as the group
    [x] = view(office, "340").connections
    assert (x.call, x.via, x.peer, x.summary) == (made, "337", "331", Summary.OUTGOING)


def test_the_mulap_number_shows_a_members_consultation_only_on_the_groups_line(
    office: Office,
) -> None:
    """CALL-14, CALL-05: a member consulting on its own line (337 called 332 as itself) does
    not make the consultation the group's: 340 stays idle. Consulting on the group's line (a
    call to 340 that 338 answered) shows both calls on 340, via 338."""
    own = office.talking("337", "332")
    office.do(c.ConsultationCall(call=own, device="337", consulted="333"))
    assert view(office, "340").connections == ()
    assert view(office, "340").summary is Summary.IDLE
    group = office.call_of(c.MakeCall(calling="330", called="340"))
    office.do(c.AnswerCall(call=group, device="338"))
    consult = office.call_of(c.ConsultationCall(call=group, device="338", consulted="331"))
    shown = [(x.call, x.state, x.via) for x in view(office, "340").connections]
    assert shown == [(group, CS.HOLD, "338"), (consult, CS.CONNECTED, "338")]


def test_the_mulap_numbers_ringing_call_hides_the_caller(office: Office) -> None:
    """CALL-10: in the MULAP number's state document a ringing group call shows no caller,
    like any ringing connection; the lamp only the summary."""
    import orjson

    from cti.api.documents import device_state, lamp

    office.call_of(c.MakeCall(calling="330", called="340"))
    doc = orjson.loads(device_state(office.site, view(office, "340"), 3, 0))
    assert doc["summary"] == "incoming-internal"
    [x] = doc["connections"]
    assert (x["peer"], x["peerName"], x["parties"], x["via"]) == (None, None, [], "337")
    shown = orjson.loads(lamp(office.site, view(office, "340"), 3, 0))
    assert shown["summary"] == "incoming-internal" and "connections" not in shown


def test_conferencing_device_has_no_single_peer(office: Office) -> None:
    """CALL-08: the conferencing device's connection lists both others and names no peer."""
    consultation(office, answered=True)
    office.do(c.ConferenceCall(device="330"))
    x = conn(office, "330", 1)
    assert (x.peer, x.peer_name, x.parties) == (None, None, ("331", "332"))
    assert x.summary is Summary.TALKING_INTERNAL


def test_conference_members_have_no_single_peer(office: Office) -> None:
    """CALL-08: every party of a three-party conference lists the others and names no peer."""
    consultation(office, answered=True)
    office.do(c.ConferenceCall(device="330"))
    for device, others in (("331", ("330", "332")), ("332", ("330", "331"))):
        x = conn(office, device, 1)
        assert set(x.parties) == set(others)
        assert (x.peer, x.peer_name) == (None, None)


def test_outgoing_mulap_call_presents_the_mulap_number(office: Office) -> None:
    """CALL-14: a call made from MULAP 340 (on assigned phone 337) shows 340 as the peer at the
    called phone, ringing and talking, while 337 sees the called phone."""
    call = office.call_of(c.MakeCall(calling="340", called="331"))
    x = conn(office, "331", call)
    assert (x.peer, x.peer_name, x.parties) == ("340", "Vertrieb", ("337",))
    assert x.summary is Summary.INCOMING_INTERNAL
    assert conn(office, "337", call).peer == "331"
    office.do(c.AnswerCall(call=call, device="331"))
    x = conn(office, "331", call)
    assert (x.peer, x.peer_name, x.summary) == ("340", "Vertrieb", Summary.TALKING_INTERNAL)


def test_callback_call_presents_the_mobility_user(office: Office) -> None:
    """CALL-15: once 335's mobile answered the callback, 331 rings from Eva (335), not from
    her mobile's number; the mobile sees 331."""
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    office.do(c.AnswerCall(call=call, device=MOBILE))
    x = conn(office, "331", call)
    assert (x.peer, x.peer_name, x.parties) == ("335", "Eva Brandt", (MOBILE,))
    assert conn(office, MOBILE, call).peer == "331"


def test_mobility_users_office_number_shows_the_call_on_the_mobile(office: Office) -> None:
    """CALL-15: during a callback the office number 335 is not idle: it shows the call its
    mobile holds (``via``), so colleagues' busy lamps see Eva busy; and it is touched by the
    mobile's events so its retained state is republished."""
    assert view(office, "335").summary is Summary.IDLE
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    ringing = view(office, "335")
    assert ringing.summary is Summary.OUTGOING
    assert [(x.call, x.via) for x in ringing.connections] == [(call, MOBILE)]
    outcome = office.node.execute(c.AnswerCall(call=call, device=MOBILE))
    events = [x.event for x in outcome.events]  # type: ignore[union-attr]
    assert "335" in touched_devices(events, office.site)
    assert "335" not in touched_devices(events)
    office.do(c.AnswerCall(call=call, device="331"))
    x = conn(office, "335", call)
    assert (x.summary, x.peer, x.via) == (Summary.TALKING_INTERNAL, "331", MOBILE)
    office.do(c.ClearConnection(call=call, device="331"))
    assert view(office, "335").summary is Summary.IDLE


def test_callback_call_keeps_its_internal_or_external_kind(office: Office) -> None:
    """CALL-11, CALL-15: the same connection does not switch between internal and external
    when it is answered."""
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    office.do(c.AnswerCall(call=call, device=MOBILE))
    ringing = conn(office, "331", call).summary
    office.do(c.AnswerCall(call=call, device="331"))
    talking = conn(office, "331", call).summary
    assert (ringing is Summary.INCOMING_EXTERNAL) == (talking is Summary.TALKING_EXTERNAL), (
        ringing,
        talking,
    )


def test_conference_back_to_two_shows_the_peer(office: Office) -> None:
    """CALL-08: when the conferencing device leaves, the remaining two see each other."""
    consultation(office, answered=True)
    office.do(c.ConferenceCall(device="330"))
    office.do(c.ClearConnection(call=1, device="330"))
    assert conn(office, "331", 1).peer == "332"
    assert conn(office, "332", 1).peer == "331"


# -- allowed services (CALL-12) ----------------------------------------------------------------


def test_held_and_active_before_the_consulted_party_answers(office: Office) -> None:
    """CALL-12: with the consultation still ringing the held call offers alternate, transfer and
    reconnect, never retrieve (another call is active) and no conference yet."""
    held, consult = consultation(office, answered=False)
    h, a = conn(office, "330", held), conn(office, "330", consult)
    assert h.allowed == ("clearConnection", "alternateCall", "transferCall", "reconnectCall")
    assert "retrieveCall" not in h.allowed
    assert "conferenceCall" not in a.allowed
    assert {"alternateCall", "transferCall", "reconnectCall"} <= set(a.allowed)


def test_conference_offered_once_the_consulted_party_answered(office: Office) -> None:
    """CALL-12: once 332 answers the active call also offers conference (and so does the held)."""
    held, consult = consultation(office, answered=True)
    h, a = conn(office, "330", held), conn(office, "330", consult)
    assert h.allowed == (
        "clearConnection",
        "alternateCall",
        "transferCall",
        "conferenceCall",
        "reconnectCall",
    )
    assert "conferenceCall" in a.allowed
    assert "retrieveCall" not in h.allowed
    assert "holdCall" not in a.allowed  # already holding one call


@pytest.mark.parametrize("service", ["alternateCall", "transferCall", "reconnectCall"])
def test_offered_two_call_services_are_accepted(office: Office, service: str) -> None:
    """CALL-12: a service offered on the held connection is accepted by the engine."""
    held, _ = consultation(office, answered=False)
    assert service in conn(office, "330", held).allowed
    command = {
        "alternateCall": c.AlternateCall,
        "transferCall": c.TransferCall,
        "reconnectCall": c.ReconnectCall,
    }[service](device="330")
    assert office.node.execute(command).ok


def test_offered_conference_is_accepted_and_refused_before(office: Office) -> None:
    """CALL-12, CALL-08: conference is refused while it is not offered, accepted once it is."""
    held, consult = consultation(office, answered=False)
    assert "conferenceCall" not in conn(office, "330", held).allowed
    assert office.refuse(c.ConferenceCall(device="330")).name == "invalidActiveConnectionState"
    office.do(c.AnswerCall(call=consult, device="332"))
    assert "conferenceCall" in conn(office, "330", consult).allowed
    office.do(c.ConferenceCall(device="330"))


def test_sip_phone_is_never_offered_consultation_or_conference(office: Office) -> None:
    """CALL-12, CALL-13: SIP phone 333 gets hold but no consultation on a call; with a held and
    an active call (through pickup) it gets alternate/transfer but never conference."""
    office.talking("333", "330")
    x = conn(office, "333", 1)
    assert "holdCall" in x.allowed
    assert "consultationCall" not in x.allowed
    assert "consultationCall" in conn(office, "330", 1).allowed
    office.do(c.HoldCall(call=1, device="333"))
    picked = office.call_of(c.Dial(device=EXTERNAL, digits="331"))
    office.do(c.DirectedPickupCall(picked="331", device="333"))
    for call in (1, picked):
        allowed = conn(office, "333", call).allowed
        assert {"alternateCall", "transferCall", "reconnectCall"} <= set(allowed)
        assert "consultationCall" not in allowed
        assert "conferenceCall" not in allowed
    assert office.refuse(c.ConferenceCall(device="333")).name == "serviceNotSupported"


def test_alerting_connection_offers_answer_and_deflect(office: Office) -> None:
    """CALL-12, CALL-03, CALL-09: a ringing phone may answer, deflect or clear."""
    office.call_of(c.MakeCall(calling="330", called="331"))
    assert conn(office, "331", 1).allowed == ("answerCall", "deflectCall", "clearConnection")
    assert conn(office, "330", 1).allowed == ("holdCall", "consultationCall", "clearConnection")


def test_callback_prompt_on_mobile_cannot_be_deflected(office: Office) -> None:
    """CALL-15, CALL-12: the callback leg ringing at the mobile is outgoing for its user and
    offers answer but not deflect."""
    office.do(c.MakeCall(calling="335", called="331"))
    x = conn(office, MOBILE, 1)
    assert x.summary is Summary.OUTGOING
    assert x.allowed == ("answerCall", "clearConnection")


# -- touched_devices -----------------------------------------------------------------------------


def test_touched_devices_of_call_events(office: Office) -> None:
    """CALL-11: a call event touches every device of its localConnectionInfo, leavers too."""
    office.talking("330", "331")
    outcome = office.node.execute(c.ClearConnection(call=1, device="331"))
    assert outcome.ok
    events = [x.event for x in outcome.events]
    assert touched_devices(events) == {"330", "331"}
    assert touched_devices(events[-1:]) == {"330"}  # callCleared: only 330 was left


def test_touched_devices_of_feature_and_timer_events() -> None:
    """CALL-16: forwarding and DND touch their device; so do internal timer events (their
    device's state is republished with their seq, which a command's reply may name:
    issue 18 item 9), although they change nothing a view shows."""
    events: list[ev.Event] = [
        ev.Forwarding(device="331", forwarding_type=ForwardingType.IMMEDIATE, on=False),
        ev.DoNotDisturb(device="332", on=True),
        ev.TimerSet(call=1, device="333", purpose=TimerPurpose.NO_ANSWER, due_ms=1),
        ev.TimerCleared(call=1, device="334", purpose=TimerPurpose.NO_ANSWER),
    ]
    assert touched_devices(events) == {"331", "332", "333", "334"}
    assert touched_devices(events[2:]) == {"333", "334"}
    held = ev.Held(
        call=1,
        cause=Cause.NORMAL,
        local=(ev.Local("330", CS.HOLD), ev.Local("+4930111", CS.CONNECTED)),
        device="330",
    )
    assert touched_devices([held, *events[:1]]) == {"330", "+4930111", "331"}
    assert touched_devices([]) == set()


def test_caller_of_a_ringing_group_sees_the_group(office: Office) -> None:
    """CALL-14: while the MULAP members ring, the caller's peer is the group number 340."""
    office.do(c.MakeCall(calling="330", called="340"))
    x = conn(office, "330", 1)
    assert (x.peer, x.peer_name, x.summary) == ("340", "Vertrieb", Summary.OUTGOING)
    office.do(c.AnswerCall(call=1, device="338"))
    assert conn(office, "330", 1).peer == "338"


# -- "no peer" has one form: None in the view, null in documents (issue 18 item 9) -------------


def test_no_peer_and_no_name_are_none_never_empty(office: Office) -> None:
    """CALL-08, CALL-10, CALL-11: a connection without one other party (a conference, a failed
    call) has peer None, and a peer without a name (a trunk party) has peer_name None; the
    device state document renders both as null, the CALL-10 form of a hidden caller, so
    "unknown" is null everywhere and "" never appears (specs/mqtt.md)."""
    import orjson

    from cti.api.documents import device_state
    from cti.api.schema import contract

    office.talking("333", EXTERNAL)
    x = conn(office, "333", 1)
    assert (x.peer, x.peer_name) == (EXTERNAL, None)
    consultation(office, answered=True)
    office.do(c.ConferenceCall(device="330"))
    assert (conn(office, "330", 2).peer, conn(office, "330", 2).peer_name) == (None, None)
    office.call_of(c.MakeCall(calling="300", called="331"))  # in the conference: busy
    failed = view(office, "300").connections[0]
    assert (failed.state, failed.peer, failed.peer_name) == (CS.FAIL, None, None)
    office.call_of(c.MakeCall(calling="336", called="334"))  # ringing at 334: hidden
    seen = set()
    for device in ("330", "331", "333", "300", "334", "336"):
        doc = orjson.loads(device_state(office.site, view(office, device), 1, 0))
        for connection in doc["connections"]:
            seen.add((connection["peer"] is None, connection["peerName"] is None))
            assert connection["peer"] != "" and connection["peerName"] != "", doc
    assert seen == {(False, False), (False, True), (True, True)}
    schema = contract()["$defs"]["ConnectionDoc"]["properties"]
    for field in ("peer", "peerName"):
        assert schema[field] == {"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]}


def test_call_11_a_conference_with_an_external_party_is_talking_external(office: Office) -> None:
    """CALL-11: in a conference there is no single peer; the summary is talking-external as
    long as any other party is external, and talking-internal with internal parties only."""
    call = office.call_of(c.MakeCall(calling="330", called=EXTERNAL))
    office.do(c.AnswerCall(call=call, device=EXTERNAL))
    consult = office.call_of(c.ConsultationCall(call=call, device="330", consulted="331"))
    office.do(c.AnswerCall(call=consult, device="331"))
    office.do(c.ConferenceCall(device="330"))
    assert conn(office, "330", call).peer is None
    assert view(office, "330").summary is Summary.TALKING_EXTERNAL
    internal = Office()
    held = internal.talking("330", "332")
    consult = internal.call_of(c.ConsultationCall(call=held, device="330", consulted="331"))
    internal.do(c.AnswerCall(call=consult, device="331"))
    internal.do(c.ConferenceCall(device="330"))
    assert conn(internal, "330", held).peer is None
    assert view(internal, "330").summary is Summary.TALKING_INTERNAL
