"""Serialization of events and snapshots (the log format), and site configuration errors.

Every event type in ``EVENT_TYPES`` gets a generated strategy from its attrs fields, so a new
event type is covered (or fails loudly for an unknown field type) without touching this file.
"""

from __future__ import annotations

import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.app.config import load_site, site_from_dict
from cti.calls import commands as c
from cti.calls import events as ev
from cti.calls.values import ConnectionState, ForwardingType
from cti.domain import CODEC, EVENT_TYPES, NodeState, snapshot
from cti.site.model import DeviceKind, SiteError
from tests.office import Office

# -- events ---------------------------------------------------------------------------------

TEXT = st.text(alphabet="+0123456789abä ", max_size=8)
INTS = st.integers(min_value=-(2**63), max_value=2**63)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a field type of the event classes (small alphabets, any int)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return INTS
    if tp is str:
        return TEXT
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and attrs.has(tp):
        return builds(tp)
    if origin in (types.UnionType, typing.Union):
        return st.one_of(*(strategy_for(a) for a in args))
    if tp is type(None):
        return st.none()
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(strategy_for(args[0]), max_size=4).map(tuple)
    raise TypeError(f"no strategy for field type {tp!r}; extend strategy_for")


def builds(cls: type) -> st.SearchStrategy[Any]:
    attrs.resolve_types(cls)
    return st.builds(cls, **{f.name: strategy_for(f.type) for f in attrs.fields(cls)})


ANY_EVENT = st.one_of(*(builds(cls) for cls in EVENT_TYPES.values()))


def test_every_event_type_has_a_kind_and_a_strategy() -> None:
    """Each event class is registered under its name and can be generated."""
    assert set(ev.EVENT_TYPES.items()) <= set(EVENT_TYPES.items())
    assert len(ev.EVENT_TYPES) == 19
    for kind, cls in EVENT_TYPES.items():
        assert kind == cls.KIND
        builds(cls)  # raises TypeError for a field type the strategies do not know


@settings(max_examples=300, deadline=None)
@given(ANY_EVENT)
def test_event_round_trip(event: ev.Event) -> None:
    """decode(kind, version, encode(e)) == e for every event type; the bytes are JSON."""
    data = CODEC.encode(event)
    assert isinstance(data, bytes)
    json.loads(data)
    decoded = CODEC.decode(event.KIND, event.VERSION, data)
    assert decoded == event
    assert type(decoded) is type(event)
    assert CODEC.encode(decoded) == data


def test_local_connection_info_is_compact() -> None:
    """localConnectionInfo is stored as [device, state] pairs."""
    event = ev.CallCleared(
        call=7, cause=ev.Cause.NORMAL_CLEARING, local=(ev.Local("330", ConnectionState.NULL),)
    )
    assert json.loads(CODEC.encode(event)) == {
        "call": 7,
        "cause": "normalClearing",
        "local": [["330", "null"]],
    }


def test_decode_of_an_unknown_kind_raises_value_error() -> None:
    """A log record of a kind this software does not know is refused, not guessed at."""
    with pytest.raises(ValueError, match="unknown event kind 'ringing'"):
        CODEC.decode("ringing", 1, b"{}")


# -- snapshots --------------------------------------------------------------------------------

PHONES = ["330", "331", "332", "333", "334", "335", "337", "338"]
EXTERNALS = ["+4930111111", "+4930222222", "+491701234567"]
NUMBERS = [*PHONES, "340", "351", "+49 30 111111", "030 222222"]
CALLS = st.integers(1, 8)
phones = st.sampled_from(PHONES)

COMMAND = st.one_of(
    st.builds(
        c.MakeCall, calling=st.sampled_from([*PHONES, "340"]), called=st.sampled_from(NUMBERS)
    ),
    st.builds(c.Dial, device=st.sampled_from(EXTERNALS), digits=st.sampled_from([*PHONES, "340"])),
    st.builds(c.AnswerCall, call=CALLS, device=st.sampled_from(PHONES + EXTERNALS)),
    st.builds(c.ClearConnection, call=CALLS, device=st.sampled_from(PHONES + EXTERNALS)),
    st.builds(c.HoldCall, call=CALLS, device=phones),
    st.builds(c.ConsultationCall, call=CALLS, device=phones, consulted=st.sampled_from(NUMBERS)),
    st.builds(c.ConferenceCall, device=phones),
    st.builds(c.TransferCall, device=phones),
    st.builds(c.DeflectCall, call=CALLS, device=phones, to=st.sampled_from(["351", "332"])),
    st.builds(c.GroupPickupCall, device=phones),
    st.builds(
        c.SetForwarding,
        device=phones,
        forwarding_type=st.just(ForwardingType.NO_ANSWER),
        on=st.booleans(),
        destination=st.sampled_from(["351", "332", "+4930111111"]),
        ring_time=st.integers(5, 30),
    ),
    st.builds(
        c.SetForwarding,
        device=phones,
        forwarding_type=st.sampled_from([ForwardingType.IMMEDIATE, ForwardingType.BUSY]),
        on=st.booleans(),
        destination=st.sampled_from(["351", "332"]),
    ),
    st.builds(c.SetDoNotDisturb, device=phones, on=st.booleans()),
    st.builds(c.OffHook, device=st.sampled_from(PHONES + EXTERNALS)),
    st.just("tick"),
)


def run_random(commands: list[c.Command | str]) -> Office:
    """Random traffic on an office where 331 and 332 forward on no answer (so timers occur)."""
    office = Office()
    for phone in ("331", "332"):
        office.do(
            c.SetForwarding(
                device=phone,
                forwarding_type=ForwardingType.NO_ANSWER,
                on=True,
                destination="351",
                ring_time=15,
            )
        )
    for command in commands:
        if command == "tick":
            office.clock.advance(10)
            office.node.fire_due_timers()
        else:
            assert isinstance(command, c.Command)
            office.node.execute(command)
    return office


@settings(max_examples=60, deadline=None)
@given(st.lists(COMMAND, max_size=40))
def test_state_round_trip_of_random_traffic(commands: list[c.Command | str]) -> None:
    """decode_state(encode_state(s)) == s for states reached by random traffic, and a
    snapshot of that state loads to what the full log replays to."""
    office = run_random(commands)
    state = office.state
    data = snapshot.encode(state)
    assert snapshot.decode(data) == state
    assert snapshot.encode(snapshot.decode(data)) == data
    office.node.snapshot()
    from cti.app.node import replay

    assert replay(office.store) == replay(office.store, use_snapshot=False) == state


def test_state_round_trip_of_a_rich_state() -> None:
    """Calls with group, pending and answered_by, held calls, conferences, DND, forwarding and
    timers all survive the snapshot format."""
    office = Office()
    office.do(
        c.SetForwarding(
            device="333",
            forwarding_type=ForwardingType.NO_ANSWER,
            on=True,
            destination="351",
            ring_time=20,
        )
    )
    office.do(
        c.SetForwarding(
            device="332", forwarding_type=ForwardingType.BUSY, on=True, destination="351"
        )
    )
    office.do(c.SetDoNotDisturb(device="336", on=True))
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="334"))
    office.do(c.AnswerCall(call=2, device="334"))
    office.do(c.ConferenceCall(device="330"))
    office.do(c.MakeCall(calling="335", called="332"))  # callback: pending
    office.do(c.Dial(device="+4930111111", digits="340"))  # group
    office.do(c.AnswerCall(call=4, device="338"))  # answered_by
    office.do(c.Dial(device="+4930222222", digits="333"))  # timer
    office.do(c.HoldCall(call=4, device="338"))
    state = office.switch
    assert state.timers and state.calls[3].pending == "332" and state.calls[4].group == "340"
    assert state.calls[4].answered_by == "338" and len(state.calls[1].parties) == 3
    assert snapshot.decode(snapshot.encode(office.state)) == office.state
    assert snapshot.decode(snapshot.encode(NodeState())) == NodeState()


# -- site configuration errors ----------------------------------------------------------------

LOCATION = {"country_code": "49", "area_code": "89", "base_number": "7007"}


def site_dict(**extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "location": dict(LOCATION),
        "devices": [
            {"number": "330", "name": "Anna"},
            {"number": "331"},
            {"number": "333", "kind": "sip_phone"},
        ],
        "voicemail": "351",
    }
    raw.update(extra)
    return raw


def test_minimal_site_is_valid() -> None:
    site = site_from_dict(site_dict(mulap=[{"number": "340", "members": ["330", "333"]}]))
    dev = site.device("340")
    assert dev is not None and dev.kind is DeviceKind.MULAP and dev.assigned_phone is None
    assert site.mulap_of("333") == "340"
    assert site.device("351") is not None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mulap": [{"number": "340", "members": []}]}, "MULAP 340 has no member phones"),
        (
            {"mulap": [{"number": "340", "members": ["330", "351"]}]},
            "MULAP 340: member 351 is not a phone",
        ),
        (
            {"mulap": [{"number": "340", "members": ["330", "339"]}]},
            "MULAP 340: member 339 is not a phone",
        ),
        (
            {"mulap": [{"number": "340", "members": ["330"], "assigned_phone": "331"}]},
            "MULAP 340: assigned phone is not a member",
        ),
        (
            {"mulap": [{"number": "331", "members": ["330"]}]},
            "number 331 is configured twice",
        ),
        ({"voicemail": "330"}, "number 330 is configured twice"),
        ({"pickup_groups": [["330", "351"]]}, "pickup group member 351 is not a phone"),
        ({"pickup_groups": [["330", "332"]]}, "pickup group member 332 is not a phone"),
    ],
)
def test_site_errors(extra: dict[str, Any], message: str) -> None:
    """CALL-13, CALL-14, CALL-10: inconsistent sites are refused with the offending entry."""
    with pytest.raises(SiteError) as err:
        site_from_dict(site_dict(**extra))
    assert str(err.value) == message


def test_duplicate_device_number() -> None:
    raw = site_dict()
    raw["devices"].append({"number": "330", "name": "Again"})
    with pytest.raises(SiteError, match="number 330 is configured twice"):
        site_from_dict(raw)


@pytest.mark.parametrize(
    ("mobile", "message"),
    [
        ("01701234567", "device 335: mobile must be an external E.164 number, e.g. +491701234567"),
        ("+49 170 1234567", "mobile must be an external E.164 number, e.g. +491701234567"),
        ("+49897007331", "mobile must be an external E.164 number, e.g. 331"),
        ("mobile", "device 335: mobile mobile: "),
    ],
)
def test_mobile_must_be_an_external_e164_number(mobile: str, message: str) -> None:
    """CALL-15: a mobility user's mobile is an E.164 number outside the site."""
    raw = site_dict()
    raw["devices"].append({"number": "335", "mobile": mobile, "dial_method": "callback_preferred"})
    with pytest.raises(SiteError) as err:
        site_from_dict(raw)
    assert message in str(err.value)


def test_valid_mobile_is_accepted() -> None:
    raw = site_dict()
    raw["devices"].append({"number": "335", "mobile": "+491701234567"})
    site = site_from_dict(raw)
    mobile = site.device("+491701234567")
    assert mobile is not None and mobile.kind is DeviceKind.MOBILE


def test_load_site_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(err.value) == f"{path}: no such file or directory"


def test_load_site_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('node = "n1"\n[location\n', encoding="utf-8")
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(err.value).startswith(f"{path}: not TOML: ")


def test_load_site_inconsistent_file_names_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        '[location]\ncountry_code = "49"\narea_code = "89"\nbase_number = "7007"\n'
        '[[devices]]\nnumber = "330"\n[[mulap]]\nnumber = "340"\nmembers = []\n',
        encoding="utf-8",
    )
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(err.value) == f"{path}: MULAP 340 has no member phones"


def test_load_site_missing_key_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        '[location]\ncountry_code = "49"\narea_code = "89"\nbase_number = "7007"\n'
        '[[mulap]]\nnumber = "340"\n',
        encoding="utf-8",
    )
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(err.value) == f"{path}: MULAP 340: missing key 'members'"


def test_load_example_site() -> None:
    site = load_site()
    assert site.node == "node1" and site.voicemail == "351"
    assert site.pickup_group_of("331") == ("330", "331", "332")


# -- site validation gaps: every problem is a SiteError naming section, entry and key ---------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # extensions that could never be dialled (CALL-01)
        (
            {"devices": [{"number": "3301"}]},
            "number 3301 has more digits than internal_number_length (3): it could not be dialled",
        ),
        (
            {"mulap": [{"number": "3400", "members": ["330"]}]},
            "number 3400 has more digits than internal_number_length (3): it could not be dialled",
        ),
        (
            {"voicemail": "3510"},
            "number 3510 has more digits than internal_number_length (3): it could not be dialled",
        ),
        ({"devices": [{"number": "33a"}]}, "[[devices]]: number '33a' must be digits"),
        ({"devices": [{"number": 1.5}]}, "[[devices]]: number 1.5 must be a string of digits"),
        # a phone in two groups (CALL-14, CALL-10)
        (
            {
                "mulap": [
                    {"number": "340", "members": ["330", "331"]},
                    {"number": "341", "members": ["331"]},
                ]
            },
            "phone 331 is a member of MULAP 340 and 341",
        ),
        (
            {"mulap": [{"number": "340", "members": ["330", "330"]}]},
            "MULAP 340 lists member 330 twice",
        ),
        (
            {"pickup_groups": [["330", "331"], ["331", "333"]]},
            "phone 331 is in more than one pickup group",
        ),
        ({"pickup_groups": ["330"]}, "pickup_groups must be a list of lists of phone numbers"),
        # unknown keys anywhere
        (
            {"voicemial": "351"},
            "the site file: unknown key 'voicemial' (allowed: chat, conference_bridges,"
            " conferences, csta, devices, location, mulap, node, phone_ranges, pickup_groups,"
            " smtp, speed_dials, trunk, users, voicemail)",
        ),
        (
            {"devices": [{"number": "335", "dial-method": "callback_preferred"}]},
            "device 335: unknown key 'dial-method' (allowed: attendant, dial_method, kind,"
            " mobile, name, number)",
        ),
        (
            {"mulap": [{"number": "340", "members": ["330"], "assigned": "330"}]},
            "MULAP 340: unknown key 'assigned' (allowed: assigned_phone, members, name, number)",
        ),
        (
            {"conference_bridges": [{"number": "390", "pin": "1234"}]},
            "conference bridge 390: unknown key 'pin' (allowed: name, number)",
        ),
        (
            {"conferences": {"dial_in": "391", "channels": 8, "pin": "1"}},
            "[conferences]: unknown key 'pin' (allowed: alone_minutes, channels, dial_in, name)",
        ),
        (
            {"conferences": {"dial_in": "391", "channels": 8, "alone_minutes": -1}},
            "[conferences]: alone_minutes must be a whole number from 0 (never) to 1440",
        ),
        (
            {"conferences": {"dial_in": "391", "channels": 8, "alone_minutes": "30"}},
            "[conferences]: alone_minutes must be a whole number from 0 (never) to 1440",
        ),
        (
            {"conferences": {"dial_in": "391", "channels": 0}},
            "[conferences]: channels must be a whole number from 1 to 1000",
        ),
        (
            {"conferences": {"channels": 8}},
            "[conferences]: missing key 'dial_in'",
        ),
        (
            {"conferences": {"dial_in": "330", "channels": 8}},
            "number 330 is configured twice",
        ),
        # internal-only kinds and unknown values
        (
            {"devices": [{"number": "351", "kind": "voicemail"}], "voicemail": None},
            "device 351: kind 'voicemail' is configured with the top-level key voicemail,"
            " not in [[devices]]",
        ),
        (
            {"devices": [{"number": "340", "kind": "mulap"}]},
            "device 340: kind 'mulap' is configured in [[mulap]], not in [[devices]]",
        ),
        (
            {"devices": [{"number": "390", "kind": "conference_bridge"}]},
            "device 390: kind 'conference_bridge' is configured in [[conference_bridges]],"
            " not in [[devices]]",
        ),
        (
            {"devices": [{"number": "399", "kind": "external"}]},
            "device 399: kind 'external' cannot be configured: external parties exist from"
            " their first use",
        ),
        (
            {"devices": [{"number": "330", "kind": "fax"}]},
            "device 330: unknown kind 'fax' (one of analog_phone, conference_bridge, external,"
            " mobile, mulap, sip_phone, system_phone, voicemail)",
        ),
        (
            {"devices": [{"number": "330", "dial_method": "callback"}]},
            "device 330: unknown dial_method 'callback' (one of callback_preferred,"
            " cti_associated)",
        ),
        (
            {"devices": [{"number": "330", "dial_method": "callback_preferred"}]},
            "device 330: dial_method callback_preferred needs a mobile",
        ),
        (
            {"devices": [{"number": "330", "attendant": "yes"}]},
            "device 330: attendant must be true or false, not 'yes'",
        ),
        ({"devices": [{"number": "330", "name": 7}]}, "device 330: name must be a string, not 7"),
        ({"devices": [{"name": "Anna"}]}, "[[devices]] entry 1: missing key 'number'"),
        ({"mulap": [{"number": "340"}]}, "MULAP 340: missing key 'members'"),
        (
            {"mulap": [{"number": "340", "members": "330"}]},
            "MULAP 340: members must be a list of phone numbers",
        ),
        ({"devices": {"number": "330"}}, "devices must be an array of tables ([[devices]])"),
        # mobiles (CALL-15)
        (
            {
                "devices": [
                    {"number": "335", "mobile": "+491701234567"},
                    {"number": "336", "mobile": "+491701234567"},
                ]
            },
            "mobile +491701234567 is configured for both 335 and 336",
        ),
        (
            {"devices": [{"number": "335", "mobile": 491701234567}]},
            'device 335: mobile must be a string such as "+491701234567"',
        ),
        # [location]: no raw TypeError / attrs ValueError
        ({"location": None}, "[location]: missing table (country_code, area_code, base_number)"),
        (
            {"location": {"country_code": "49", "area_code": "89"}},
            "[location]: missing key 'base_number'",
        ),
        (
            {"location": {**LOCATION, "country": "DE"}},
            "[location]: unknown key 'country' (allowed: area_code, base_number, country_code,"
            " internal_number_length, international_prefix, national_prefix, region,"
            " time_zone, trunk_access_code)",
        ),
        (
            {"location": {**LOCATION, "country_code": "+49"}},
            "[location]: country_code must be digits, not '+49'",
        ),
        (
            {"location": {**LOCATION, "country_code": 49}},
            '[location]: country_code must be a string such as "49", not 49',
        ),
        (
            {"location": {**LOCATION, "internal_number_length": 0}},
            "[location]: internal_number_length must be a whole number >= 1, not 0",
        ),
        (
            {"location": {**LOCATION, "country_code": "999"}},
            "[location]: unknown country code 999",
        ),
        # a line break after a name: "$" alone would let it through into broker files
        (
            {"node": "node1\n"},
            "node 'node1\\n': letters, digits, '-' and '_' only (at most 32), first a letter"
            " or digit: it is a topic level and part of broker user names",
        ),
    ],
)
def test_site_validation_names_the_offending_key(extra: dict[str, Any], message: str) -> None:
    """CALL-01, CALL-10, CALL-13, CALL-14, CALL-15: a clear SiteError, never a raw exception."""
    raw = site_dict(**extra)  # a given "devices" list replaces the default phones
    if raw["voicemail"] is None:
        del raw["voicemail"]
    with pytest.raises(SiteError) as err:
        site_from_dict(raw)
    assert str(err.value) == message


def test_load_site_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(
        '[location]\ncountry_code = "49"\narea_code = "89"\nbase_number = "7007"\n'
        '[[devices]]\nnumber = "330"\ndial-method = "callback_preferred"\n',
        encoding="utf-8",
    )
    with pytest.raises(SiteError) as err:
        load_site(path)
    assert str(err.value).startswith(f"{path}: device 330: unknown key 'dial-method'")


def test_shorter_extensions_and_integer_numbers_are_accepted() -> None:
    raw = site_dict(devices=[{"number": 30}, {"number": "331"}], pickup_groups=[[30, "331"]])
    site = site_from_dict(raw)
    assert site.device("30") is not None and site.pickup_group_of("331") == ("30", "331")


def test_phone_ranges_expand_to_numbered_phones() -> None:
    """Big offices and load sites: [[phone_ranges]] gives count phones from first."""
    site = site_from_dict(
        site_dict(phone_ranges=[{"first": "400", "count": 3, "kind": "sip_phone", "name": "L{n}"}])
    )
    assert [(d.number, d.kind, d.name) for d in site.devices.values() if d.number >= "400"] == [
        ("400", DeviceKind.SIP_PHONE, "L400"),
        ("401", DeviceKind.SIP_PHONE, "L401"),
        ("402", DeviceKind.SIP_PHONE, "L402"),
    ]
    big = load_site(Path(__file__).parents[2] / "cti" / "sites" / "load.toml")
    assert sum(d.kind is DeviceKind.SYSTEM_PHONE for d in big.devices.values()) == 200


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"first": "990", "count": 20}, "20 numbers from 990 do not fit in 3 digits"),
        ({"first": "400", "count": 0}, "count must be a whole number from 1 to 10000"),
        ({"first": "400", "count": True}, "count must be a whole number from 1 to 10000"),
        ({"first": "400", "count": 2, "kind": "mulap"}, "kind must be a phone kind, not 'mulap'"),
        ({"count": 2}, "missing key 'first'"),
        ({"first": "330", "count": 2}, "number 330 is configured twice"),
    ],
)
def test_bad_phone_ranges_are_named(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(SiteError, match=message):
        site_from_dict(site_dict(phone_ranges=[entry]))
