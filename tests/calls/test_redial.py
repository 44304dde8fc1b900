"""Redial lists (CALL-02): the last 10 numbers per presenting user, newest first, no repeats.

They are part of the node state (``DeviceRuntime.redial``, set where ``originated`` is
applied), so they survive restarts with the snapshot; a replay of the whole log must give the
same lists as the live node.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cti.app.node import replay
from cti.calls import commands as c
from cti.calls.errors import CstaError
from cti.calls.services.queries import RedialList
from cti.calls.state import REDIAL_SIZE, SwitchState
from tests.office import Office

MOBILE = "+491701234567"


class Lists:
    def __init__(self, state: SwitchState) -> None:
        self.state = state

    def numbers(self, user: str) -> list[str]:
        return list(self.state.device(user).redial)


class Watched(Office):
    """The office; ``redial`` reads the live node state."""

    @property
    def redial(self) -> Lists:
        return Lists(self.node.state.calls)

    def dial(self, user: str, number: str) -> int:
        """``user`` calls ``number`` and the call is cleared again."""
        call = self.call_of(c.MakeCall(calling=user, called=number))
        self.do(c.ClearCall(call=call))
        return call

    def rebuilt(self) -> Lists:
        return Lists(replay(self.store, use_snapshot=False).calls)


def external(i: int) -> str:
    return f"+4930{100000 + i}"


def users_of(office: Office) -> list[str]:
    return [*office.site.devices, MOBILE, *(external(i) for i in range(20))]


def test_newest_first_and_only_the_last_ten() -> None:
    """CALL-02: after 12 different numbers the list holds the last 10, newest first."""
    office = Watched()
    numbers = [external(i) for i in range(12)]
    for number in numbers:
        office.dial("330", number)
    assert office.redial.numbers("330") == numbers[::-1][:REDIAL_SIZE]
    assert REDIAL_SIZE == 10
    assert office.redial.numbers("331") == []


def test_repeated_number_moves_to_the_top_without_duplicate() -> None:
    """CALL-02, CALL-01: redialling a number (in any written form) moves it to the top once."""
    office = Watched()
    for number in ("331", "332", "+49 30 123456", "333"):
        office.dial("330", number)
    assert office.redial.numbers("330") == ["333", "+4930123456", "332", "331"]
    office.dial("330", "0 030 123456")  # the same number in dialable form
    assert office.redial.numbers("330") == ["+4930123456", "333", "332", "331"]
    office.dial("330", "331")
    assert office.redial.numbers("330") == ["331", "+4930123456", "333", "332"]


def test_repeats_do_not_push_older_numbers_out() -> None:
    """CALL-02: with ten numbers listed, redialling one of them keeps all ten."""
    office = Watched()
    numbers = [external(i) for i in range(REDIAL_SIZE)]
    for number in numbers:
        office.dial("330", number)
    office.dial("330", numbers[0])
    assert office.redial.numbers("330") == [numbers[0], *numbers[:0:-1]]


def test_returned_list_is_a_copy_and_unknown_users_are_refused() -> None:
    """CALL-02: a caller mutating the returned list changes nothing; trunk parties and unknown
    numbers have no list (invalidDeviceID)."""
    office = Watched()
    office.dial("330", "331")
    answer = office.node.query(RedialList(device="330"))
    assert isinstance(answer, dict)
    answer["numbers"].clear()
    assert office.node.query(RedialList(device="330")) == {"numbers": ["331"]}
    for nobody in ("999", "+4930100001"):
        try:
            office.node.query(RedialList(device=nobody))
        except CstaError as err:
            assert err.name == "invalidDeviceID"
        else:
            raise AssertionError(f"{nobody} has a redial list")


def test_mulap_call_is_listed_for_the_mulap_number() -> None:
    """CALL-02, CALL-14: 340's call starts on assigned phone 337 but is listed for 340."""
    office = Watched()
    office.dial("340", "331")
    assert office.redial.numbers("340") == ["331"]
    assert office.redial.numbers("337") == []


def test_callback_call_is_listed_for_the_mobility_user_once_the_mobile_answers() -> None:
    """CALL-02, CALL-15: 335 (callback preferred) dials 331: nothing is dialled until the mobile
    answers; then 331 is listed for 335, not for the mobile."""
    office = Watched()
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    assert office.redial.numbers("335") == []
    office.do(c.AnswerCall(call=call, device=MOBILE))
    assert office.redial.numbers("335") == ["331"]
    assert office.redial.numbers(MOBILE) == []


def test_callback_cleared_before_the_mobile_answers_is_not_listed() -> None:
    """CALL-02, CALL-15: a callback given up at the mobile dials nothing; later calls of the
    mobility user are still attributed correctly."""
    office = Watched()
    call = office.call_of(c.MakeCall(calling="335", called="331"))
    office.do(c.ClearCall(call=call))
    assert office.redial.numbers("335") == []
    call = office.call_of(c.MakeCall(calling="335", called="332"))
    office.do(c.AnswerCall(call=call, device=MOBILE))
    assert office.redial.numbers("335") == ["332"]


def test_consultation_calls_are_counted() -> None:
    """CALL-02, CALL-05: the consulted number is dialled too."""
    office = Watched()
    call = office.talking("330", "331")
    office.do(c.ConsultationCall(call=call, device="330", consulted="332"))
    assert office.redial.numbers("330") == ["332", "331"]
    assert office.redial.numbers("331") == []


def test_failed_and_physically_dialled_calls_are_counted_refused_are_not() -> None:
    """CALL-02: a busy destination was still dialled; off-hook + dial counts; a refused
    makeCall (unknown number) records nothing and so lists nothing."""
    office = Watched()
    office.talking("331", "332")
    office.call_of(c.MakeCall(calling="330", called="331"))  # fails: busy
    office.do(c.OnHook(device="330"))
    office.do(c.OffHook(device="333"))
    office.do(c.Dial(device="333", digits="330"))
    office.refuse(c.MakeCall(calling="334", called="999"))
    assert office.redial.numbers("330") == ["331"]
    assert office.redial.numbers("333") == ["330"]
    assert office.redial.numbers("334") == []


def test_rebuild_from_the_log_equals_the_live_projection() -> None:
    """CALL-02: a projection rebuilt from the stored log equals the live one for every user."""
    office = Watched()
    for i in range(13):
        office.dial("330" if i % 2 else "331", external(i % 7))
    office.dial("340", "330")
    call = office.call_of(c.MakeCall(calling="335", called="332"))
    office.do(c.AnswerCall(call=call, device=MOBILE))
    held = office.talking("336", "333")
    office.do(c.ConsultationCall(call=held, device="336", consulted="334"))
    office.call_of(c.Dial(device=external(3), digits="337"))
    rebuilt = office.rebuilt()
    lists = {u: office.redial.numbers(u) for u in users_of(office)}
    assert {u: rebuilt.numbers(u) for u in users_of(office)} == lists
    assert lists["335"] == ["332"] and lists["336"] == ["334", "333"]
    assert lists[external(3)] == []  # trunk parties keep no list
    assert lists["330"] == [external(i) for i in (4, 2, 0, 5, 3, 1)]
    assert lists["331"] == [external(i) for i in (5, 3, 1, 6, 4, 2, 0)]
    assert lists["340"] == ["330"]


COMMANDS = st.one_of(
    st.builds(
        c.MakeCall,
        calling=st.sampled_from(["330", "331", "340", "335", "336"]),
        called=st.sampled_from(["330", "331", "332", "340", "351", "+4930100001", "030 100002"]),
    ),
    st.builds(c.AnswerCall, call=st.integers(1, 8), device=st.sampled_from(["331", MOBILE])),
    st.builds(c.ClearCall, call=st.integers(1, 8)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(COMMANDS, max_size=30))
def test_random_traffic_live_equals_rebuilt_and_lists_stay_valid(
    commands: list[c.Command],
) -> None:
    """CALL-02: whatever happens, lists have at most 10 distinct numbers and the live
    lists equal the ones rebuilt from the log."""
    office = Watched()
    for command in commands:
        office.node.execute(command)
    rebuilt = office.rebuilt()
    for user in users_of(office):
        numbers = office.redial.numbers(user)
        assert len(numbers) == len(set(numbers)) <= REDIAL_SIZE
        assert rebuilt.numbers(user) == numbers
