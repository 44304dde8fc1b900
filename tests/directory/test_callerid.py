"""DIR-06: caller identification. A number is named from the called user's own personal
directory first, then the internal directory, then the system directory; what a user's
personal directory says reaches that user only (the callers view is per user)."""

from __future__ import annotations

import attrs
import pytest

from cti.accounts.commands import SetProfileChecked
from cti.app.node import Node
from cti.calls import commands as calls
from cti.directory import callerid, callers
from cti.directory import commands as c
from cti.directory.callerid import identify, resolve_caller
from cti.directory.entries import Directory
from cti.directory.queries import IdentifyCaller
from cti.kernel.messages import Event
from tests.directory.helpers import SITE, done, refused, seeded

A, B = "331", "332"
HAUSMEISTER = "+491715550123"  # a speed dial of the example site


@pytest.fixture
def node() -> Node:
    return seeded()


def name(node: Node, user: str, number: str) -> tuple[str | None, Directory | None]:
    found = identify(SITE, node.state, user, number)
    return (None, None) if found is None else (found.name, found.directory)


def test_dir06_personal_then_internal_then_system(node: Node) -> None:
    # The system directory knows the number...
    assert name(node, A, HAUSMEISTER) == ("Hausmeister", Directory.SYSTEM)
    # ...then a colleague gives it as their profile's mobile: the internal directory wins...
    done(node, SetProfileChecked(name="333", mobile="0171 5550123"), by="333")
    assert name(node, A, HAUSMEISTER) == ("Dieter Klein", Directory.INTERNAL)
    # ...and A's own contact wins over both, for A alone.
    done(node, c.AddContact(user=A, name="Herr Hausmann", mobile="+49 171 5550123"))
    assert name(node, A, HAUSMEISTER) == ("Herr Hausmann", Directory.PERSONAL)
    assert name(node, B, HAUSMEISTER) == ("Dieter Klein", Directory.INTERNAL)
    assert resolve_caller(SITE, node.state, A, HAUSMEISTER) == "Herr Hausmann"
    assert resolve_caller(SITE, node.state, B, HAUSMEISTER) == "Dieter Klein"


@pytest.mark.parametrize(
    "number",
    ["+491711000001", "0171 1000001", "+49 (171) 100-0001", "000491711000001"],
)
def test_dir06_a_number_is_matched_in_its_canonical_form(node: Node, number: str) -> None:
    done(node, c.AddContact(user=A, name="Anna", mobile="0171 1000001"))
    assert resolve_caller(SITE, node.state, A, number) == "Anna"
    # No suffix matching: another number ending the same is somebody else.
    assert resolve_caller(SITE, node.state, A, "+431711000001") is None


def test_dir06_internal_numbers_and_their_dids_are_colleagues(node: Node) -> None:
    assert resolve_caller(SITE, node.state, A, "332") == "Clara Wolf"
    assert resolve_caller(SITE, node.state, A, "+49897007332") == "Clara Wolf"
    assert resolve_caller(SITE, node.state, A, "+4930999999") is None


def test_dir06_the_lowest_id_names_a_number_several_contacts_have(node: Node) -> None:
    done(node, c.AddContact(user=A, name="Zentrale ACME", business="089 1234567"))
    done(node, c.AddContact(user=A, name="Anna bei ACME", business="089 1234567"))
    assert resolve_caller(SITE, node.state, A, "+49891234567") == "Zentrale ACME"


def test_dir06_the_callers_view_names_the_party_for_the_called_user_only(node: Node) -> None:
    done(node, c.AddContact(user=A, name="Jörg Müller", mobile="0171 1000001"))
    done(node, calls.Dial(device="+491711000001", digits="331"))
    call = next(iter(node.state.calls.calls))
    assert callers.view(SITE, node.state, A) == {
        "user": A,
        "calls": [
            {
                "call": call,
                "device": A,
                "number": "+491711000001",
                "name": "Jörg Müller",
                "directory": Directory.PERSONAL,
            }
        ],
    }
    assert callers.view(SITE, node.state, B) == {"user": B, "calls": []}
    # The users to render again after the call's events: A (whose phone it is), not B.
    events = [r.event for r in node.feed.read(1, 10_000) or []]
    assert callers.touched(SITE, node.state, events[-1:]) == {A}


def test_dir06_identify_caller_answers_the_senders_own_directories_only(node: Node) -> None:
    done(node, c.AddContact(user=A, name="Geheim", mobile="0171 1000001"))
    assert node.query(IdentifyCaller(user=A, number="0171 1000001"), A) == {
        "name": "Geheim",
        "directory": Directory.PERSONAL,
    }
    assert node.query(IdentifyCaller(user=B, number="0171 1000001"), B) == {
        "name": None,
        "directory": None,
    }
    with pytest.raises(Exception, match="notPermitted"):
        node.query(IdentifyCaller(user=A, number="0171 1000001"), B)
    assert (
        refused(node, c.AddContact(user=A, name="X", mobile="0171 1"), by=B).name == "notPermitted"
    )


def test_dir02_internal_entries_show_presence_within_each_users_visibility(node: Node) -> None:
    """PRES-04: a colleague's status shows in the internal directory unless their
    visibility hides it from others; their own entry shows it to themselves."""
    from cti.accounts.model import Visibility
    from cti.directory.queries import GetDirectoryEntry
    from cti.presence.commands import SetPresence
    from cti.presence.model import Status

    done(node, SetPresence(user=B, status=Status.MEETING))
    done(node, SetPresence(user="333", status=Status.LUNCH))
    done(node, SetProfileChecked(name="333", presence_visibility=Visibility.NOT_VISIBLE), by="333")

    def presence(viewer: str, user: str) -> object:
        entry = node.query(
            GetDirectoryEntry(user=viewer, directory=Directory.INTERNAL, id=user), viewer
        )
        assert isinstance(entry, dict)
        return entry["presence"]

    assert presence(A, B) == Status.MEETING
    assert presence(A, "333") is None  # not visible to others
    assert presence("333", "333") == Status.LUNCH  # their own
    assert presence(A, A) == Status.OFFICE


def test_dir06_a_changed_colleague_renders_the_callers_of_everyone_in_a_call(node: Node) -> None:
    """A profile's new mobile may name the party of a running call: every user in a call is
    rendered again; with no call running, nobody is."""
    assert callers.touched(SITE, node.state, [_profile("333")]) == set()
    done(node, calls.Dial(device="+491715550199", digits=A))
    assert callers.touched(SITE, node.state, [_profile("333")]) == {A}
    done(node, SetProfileChecked(name="333", mobile="0171 5550199"), by="333")
    [entry] = callers.view(SITE, node.state, A)["calls"]
    assert (entry["name"], entry["directory"]) == ("Dieter Klein", Directory.INTERNAL)


def _profile(name: str) -> Event:
    from cti.accounts.events import ProfileChanged
    from cti.accounts.model import Visibility

    return ProfileChanged(
        name=name,
        mobile=None,
        external=None,
        email=None,
        photo_sha256=None,
        presence_visibility=Visibility.INTERNAL_AND_EXTERNAL,
        voicemail_to_email=False,
    )


def test_dir06_the_colleagues_of_another_site_are_its_own_even_at_a_reused_id(
    node: Node,
) -> None:
    """The internal names are cached per site by ``id(site)``; a site made after another one
    died can get its id, and must not get its names."""
    other = attrs.evolve(
        SITE, devices={**SITE.devices, B: attrs.evolve(SITE.devices[B], mobile="+4917100000332")}
    )
    assert resolve_caller(SITE, node.state, A, "+4917100000332") is None
    callerid._INTERNAL[id(other)] = callerid._INTERNAL[id(SITE)]  # as if SITE's id were reused
    assert resolve_caller(other, node.state, A, "+4917100000332") == "Clara Wolf"
