"""Number plan (CALL-01): internal, dialable and canonical numbers, for a DE and a US location.

Table tests pin the catalogue's examples and every refusal message; property tests check that
canonical and dialable forms of valid numbers (built from libphonenumber's example numbers)
resolve to the same E.164 number, that separators never matter and that internal numbers
round-trip through their DIDs.
"""

from __future__ import annotations

import re

import phonenumbers as pn
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cti.site.numbers import InvalidNumber, Location, NumberPlan, Resolved

DE_INTERNAL = frozenset(str(n) for n in range(100, 400)) | {"351"}
US_INTERNAL = frozenset(str(n) for n in range(1000, 2000))

DE = NumberPlan(Location("49", "89", "7007"), DE_INTERNAL.__contains__)
US = NumberPlan(
    Location(
        "1",
        "212",
        "555",
        international_prefix="011",
        national_prefix="1",
        trunk_access_code="9",
        internal_number_length=4,
    ),
    US_INTERNAL.__contains__,
)

MUNICH = ("external", "+4989700798765", "0089700798765")
LONDON_DE = ("external", "+442079460958", "000442079460958")
INT_331 = ("internal", "331", "331")
NEW_YORK = ("external", "+12125550100", "912125550100")
LONDON_US = ("external", "+442079460958", "9011442079460958")
INT_1234 = ("internal", "1234", "1234")

DE_CASES = [
    ("+49 (89) 7007-98765", *MUNICH),
    ("+49 (0) 89 7007 98765", *MUNICH),  # libphonenumber drops the national prefix after +49
    ("+49;89;7007:98765", *MUNICH),
    ("0089700798765", *MUNICH),  # TAC + national prefix
    ("0 089/7007-98765", *MUNICH),
    ("089 7007 98765", *MUNICH),  # national prefix, TAC added
    ("089\t7007\t98765", *MUNICH),
    ("0 7007 98765", *MUNICH),  # TAC + local subscriber number
    ("7007 98765", *MUNICH),  # local subscriber number, TAC added
    ("+44 20 7946 0958", *LONDON_DE),
    ("000 44 20 7946 0958", *LONDON_DE),  # TAC + international prefix
    # TAC + national prefix comes first: without the TAC "0044..." is a valid German number.
    ("0044 20 7946 0958", "external", "+49442079460958", "00442079460958"),
    ("+33 1 42 68 53 00", "external", "+33142685300", "00033142685300"),
    ("+49 30 1234567", "external", "+49301234567", "00301234567"),
    ("+49 89 7007 999", "external", "+49897007999", "00897007999"),  # own range, not configured
    ("331", *INT_331),
    ("351", "internal", "351", "351"),
    ("+49 89 7007 331", *INT_331),
    ("+49 (0)89 7007-331", *INT_331),
    ("0 089 7007 331", *INT_331),  # TAC + national prefix + own DID
    ("089 7007 331", *INT_331),
    ("0 7007 331", *INT_331),
    ("7007-331", *INT_331),  # own DID without TAC
]

US_CASES = [
    ("+1 212 555 0100", *NEW_YORK),
    ("+1 (212) 555-0100", *NEW_YORK),
    ("9 1 212 555 0100", *NEW_YORK),  # TAC + national prefix
    ("1 212 555 0100", *NEW_YORK),  # national prefix, TAC added
    ("9 555 0100", *NEW_YORK),  # TAC + local subscriber number
    ("555-0100", *NEW_YORK),  # local subscriber number
    ("9 212 555 0100", *NEW_YORK),  # TAC + 10 digits (ten-digit dialling)
    ("(212) 555-0100", *NEW_YORK),
    ("+1 415 555 0132", "external", "+14155550132", "914155550132"),
    ("+44 20 7946 0958", *LONDON_US),
    ("9 011 44 20 7946 0958", *LONDON_US),
    ("011 44 20 7946 0958", *LONDON_US),
    ("1234", *INT_1234),
    ("+1 212 555 1234", *INT_1234),
    ("9 1 212 555 1234", *INT_1234),
    ("555 1234", *INT_1234),
]


@pytest.mark.parametrize(("text", "kind", "number", "dialable"), DE_CASES)
def test_resolve_de(text: str, kind: str, number: str, dialable: str) -> None:
    assert DE.resolve(text) == Resolved(kind, number, dialable)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "kind", "number", "dialable"), US_CASES)
def test_resolve_us(text: str, kind: str, number: str, dialable: str) -> None:
    assert US.resolve(text) == Resolved(kind, number, dialable)  # type: ignore[arg-type]


@pytest.mark.parametrize("e164", sorted({c[2] for c in DE_CASES + US_CASES if c[1] == "external"}))
def test_example_numbers_are_valid(e164: str) -> None:
    assert pn.is_valid_number(pn.parse(e164))


REFUSALS = [
    (DE, "", "empty number"),
    (DE, " - ", "empty number"),
    (DE, "33a", "invalid character 'a' in number '33a'"),
    (DE, "089.7007.98765", "invalid character '.'"),
    (DE, "\uff13\uff13\uff11", "invalid character '\uff13'"),  # fullwidth digits are not digits
    (DE, "49+89", "'+' is only allowed at the start"),
    (DE, "++49 89 7007 98765", "'+' is only allowed at the start"),
    (DE, "+", "no digits after '+'"),
    (DE, "999", "unknown internal number '999'"),
    (DE, "0", "unknown internal number '0'"),
    (US, "2000", "unknown internal number '2000'"),
    (DE, "+999 1234 5678", "unknown country code"),
    (DE, "+49 1", "too short"),
    (DE, "+49 11", "too short (a local number without area code)"),
    (DE, "+49 89 1234 5678 9012 3456", "too long"),
    (US, "+1 212 555 010", "too short"),
    (DE, "+1 555 555 0100", "no such number range in +1"),
    (DE, "1234567890123456789", "not a possible phone number in any dialable form"),
]


@pytest.mark.parametrize(("plan", "text", "message"), REFUSALS)
def test_refusals(plan: NumberPlan, text: str, message: str) -> None:
    with pytest.raises(InvalidNumber, match=re.escape(message)):
        plan.resolve(text)


def test_canonical() -> None:
    assert DE.canonical("331") == "+49897007331"
    assert DE.canonical("089 7007 98765") == "+4989700798765"
    assert US.canonical("1234") == "+12125551234"
    assert US.canonical("9 011 44 20 7946 0958") == "+442079460958"
    no_did = NumberPlan(Location("49", "89", ""), DE_INTERNAL.__contains__)
    with pytest.raises(InvalidNumber, match="internal number '331' has no DID"):
        no_did.canonical("331")
    assert no_did.resolve("+49 89 331 00") == Resolved("external", "+498933100", "008933100")


def test_dialable() -> None:
    assert DE.dialable("+4989700798765") == "0089700798765"
    assert DE.dialable("+442079460958") == "000442079460958"
    assert US.dialable("+12125550100") == "912125550100"
    assert US.dialable("+442079460958") == "9011442079460958"
    assert US.dialable("+49 89 7007 98765") == "90114989700798765"
    with pytest.raises(InvalidNumber, match=re.escape("E.164 numbers start with '+'")):
        DE.dialable("089700798765")
    with pytest.raises(InvalidNumber, match="too short"):
        DE.dialable("+49 1")


@pytest.mark.parametrize(
    ("plan", "number", "shown"),
    [
        (DE, "+4989700798765", "+49 89 7007 98765"),
        (DE, "+49897007999", "+49 89 7007 999"),
        (DE, "+49301234567", "+49 30 1234567"),
        (DE, "+442079460958", "+44 20 7946 0958"),
        (DE, "331", "331"),
        (DE, "+49897007331", "331"),  # a configured extension's DID shows as the extension
        (DE, "anonymous", "anonymous"),  # not a number: shown as it is
        (US, "+12125550100", "+1 212-555-0100"),
        (US, "1234", "1234"),
    ],
)
def test_display(plan: NumberPlan, number: str, shown: str) -> None:
    assert plan.display(number) == shown


@pytest.mark.parametrize(
    ("number", "external"),
    [("+4989700798765", True), ("089 7007 98765", True), ("331", False),
     ("+49897007331", False), ("999", False), ("anonymous", False)],
)  # fmt: skip
def test_is_external(number: str, external: bool) -> None:
    assert DE.is_external(number) is external


def test_location_errors() -> None:
    with pytest.raises(ValueError, match="country_code"):
        Location("4a", "89", "7007")
    with pytest.raises(ValueError, match="internal_number_length"):
        Location("49", "89", "7007", internal_number_length=0)
    with pytest.raises(ValueError, match="unknown country code 999"):
        NumberPlan(Location("999", "", ""), DE_INTERNAL.__contains__)
    with pytest.raises(ValueError, match="region 'US' does not have country code 49"):
        NumberPlan(Location("49", "89", "7007", region="US"), DE_INTERNAL.__contains__)


# --- properties -------------------------------------------------------------------------------

_REGIONS = ("DE", "DE", "DE", "AT", "CH", "GB", "FR", "IT", "ES", "NL", "US", "CA", "JP", "AU")
_TYPES = (pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.TOLL_FREE)
_EXAMPLES = [
    num
    for region in _REGIONS
    for kind in _TYPES
    if (num := pn.example_number_for_type(region, kind)) is not None
]
_SEPARATORS = " \t()/-:;"


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    """E.164 of a valid number: an example number with its last digits replaced, or a Munich one."""
    if draw(st.booleans()):
        nsn = "89" + draw(st.from_regex(r"[1-9][0-9]{4,8}", fullmatch=True))
        e164 = "+49" + nsn
    else:
        example = draw(st.sampled_from(_EXAMPLES))
        nsn = pn.national_significant_number(example)
        tail = draw(st.from_regex(r"[0-9]{1,4}", fullmatch=True))
        e164 = f"+{example.country_code}{nsn[: len(nsn) - len(tail)]}{tail}"
    num = pn.parse(e164)
    assume(pn.is_valid_number(num))
    return pn.format_number(num, pn.PhoneNumberFormat.E164)


def _sprinkle(data: st.DataObject, text: str) -> str:
    """``text`` with separators inserted anywhere (before, between and after its characters)."""
    gaps = data.draw(
        st.lists(st.text(_SEPARATORS, max_size=2), min_size=len(text) + 1, max_size=len(text) + 1)
    )
    return "".join(gap + char for gap, char in zip(gaps, text, strict=False)) + gaps[-1]


plans = st.sampled_from([DE, US])


@given(plans, valid_numbers())
def test_canonical_and_dialable_forms_agree(plan: NumberPlan, e164: str) -> None:
    dialable = plan.dialable(e164)
    assert plan.canonical(e164) == e164
    assert plan.canonical(dialable) == e164
    assert plan.resolve(e164) == plan.resolve(dialable)


@given(plans, valid_numbers(), st.data())
def test_separators_do_not_matter(plan: NumberPlan, e164: str, data: st.DataObject) -> None:
    for text in (e164, plan.dialable(e164)):
        assert plan.resolve(_sprinkle(data, text)) == plan.resolve(text)


@given(st.sampled_from([(DE, sorted(DE_INTERNAL)), (US, sorted(US_INTERNAL))]), st.data())
def test_internal_numbers_round_trip(
    case: tuple[NumberPlan, list[str]], data: st.DataObject
) -> None:
    plan, internal = case
    ext = data.draw(st.sampled_from(internal))
    did = plan.canonical(ext)
    expected = Resolved("internal", ext, ext)
    assert plan.resolve(ext) == expected
    assert plan.resolve(did) == expected
    assert plan.resolve(plan.dialable(did)) == expected
    assert plan.resolve(_sprinkle(data, did)) == expected
    assert plan.display(did) == ext


@given(plans, st.one_of(st.text(), st.from_regex(r"\+?[0-9 ()/-]{0,20}", fullmatch=True)))
def test_anything_resolves_or_is_refused(plan: NumberPlan, text: str) -> None:
    try:
        res = plan.resolve(text)
    except InvalidNumber as exc:
        assert str(exc)
    else:
        assert res.number == (res.dialable if res.kind == "internal" else plan.canonical(text))
