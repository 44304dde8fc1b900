"""Presence in the phone model (PRES-01..05): the verbs' requests, the voicemail menu, the
idle display, and a simulator started later learning its users' presence."""

from __future__ import annotations

import pytest

from phone_sim.model import display
from phone_sim.model.actions import NotPossible, absolute_return, plan
from phone_sim.model.phone import Leg, Phone
from phone_sim.sim import Simulator
from tests.phone_sim.conftest import Office


def test_presence_verbs_send_presence_requests() -> None:
    phone = Phone("331")
    [req] = plan(phone, "presence", ["meeting", "at", "1767229200000", "Board", "room"])
    assert (req.service, req.fields) == (
        "setPresence",
        {"user": "331", "status": "meeting", "returnAt": 1767229200000, "info": "Board room"},
    )
    assert absolute_return(["lunch", "for", "30m"], 1_000) == ("lunch", "at", str(1_801_000))
    [req] = plan(phone, "forwards", ["meeting", "to", "mobile"])
    assert req.fields == {"user": "331", "status": "meeting", "target": "mobile"}
    [req] = plan(phone, "forwards", ["lunch", "to", "+49301234567"])
    assert req.fields["target"] == "number" and req.fields["number"] == "+49301234567"
    with pytest.raises(NotPossible):
        plan(phone, "presence", ["asleep"])
    with pytest.raises(NotPossible):
        absolute_return(["lunch", "for", "soon"], 0)


def test_the_voicemail_menu_sets_presence_only_on_a_voicemail_call() -> None:
    phone = Phone("331")
    with pytest.raises(NotPossible) as info:
        plan(phone, "sends", ["52", "351"])
    assert info.value.code == "invalidConnectionID"
    phone.legs[1] = Leg(1, "connected", {"351": "connected"})
    [req] = plan(phone, "sends", ["52", "351"])
    assert req.fields == {"user": "331", "status": "meeting"}
    [req] = plan(phone, "sends", ["59", "351"])
    assert req.fields["status"] == "doNotDisturb"
    for digits in ("50", "5", "62", "520"):
        with pytest.raises(NotPossible):
            plan(phone, "sends", [digits, "351"])


def test_the_idle_display_shows_the_absence_and_dnd_wins() -> None:
    phone = Phone("331", name="Bernd Vogel")
    phone.on_event({"event": "presenceChanged", "user": "331", "status": "lunch",
                    "returnAt": 1_767_229_200_000, "info": None, "seq": 1})  # fmt: skip
    assert display.render(phone, {}) == ("331 Bernd Vogel", "Lunch until 01:00")
    phone.on_event({"event": "returnTimePassed", "user": "331", "returnAt": 0, "seq": 2})
    assert display.render(phone, {}) == ("331 Bernd Vogel", "Lunch")
    phone.dnd = True
    assert display.render(phone, {})[1] == "Do not disturb"
    assert phone.shown_presence == "doNotDisturb"


async def test_a_simulator_started_later_learns_its_users_presence(local_office: Office) -> None:
    await local_office.sim.act("332", "presence", "vacation", "Ibiza")
    late = Simulator(type(local_office.sim.link)(local_office.engine), local_office.clock)
    await late.start()
    try:
        assert late.phone("332").presence == "vacation"
        assert late.display("332")[1] == "Vacation"
    finally:
        await late.close()
