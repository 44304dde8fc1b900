"""DIR-05: every favourites service and every refusal, on the example office with accounts.

A refused request changes nothing (``refused`` checks the state and the log); a request that
changes nothing records nothing.
"""

from __future__ import annotations

import pytest

from cti.accounts.commands import AccountSeed, RemoveAccount, SeedAccounts, UpdateAccount
from cti.accounts.model import Role
from cti.app.node import Node, replay
from cti.domain import snapshot
from cti.favourites import commands as f
from cti.favourites.model import MAX_ENTRIES, MAX_GROUP_NAME, MAX_GROUPS
from cti.favourites.queries import GetFavourites
from tests.favourites.helpers import done, events, favourites, refused, seeded, shape

A, B = "331", "332"


@pytest.fixture
def node() -> Node:
    return seeded()


def team(node: Node, user: str = A) -> int:
    """A group "Team" with the colleague 332 in it; its id."""
    return int(done(node, f.AddFavourite(user=user, group_name="Team", colleague=B))["group"])


# -- addFavourite ----------------------------------------------------------------------------
def test_dir05_a_colleague_added_to_a_new_group_shows_their_name_and_lamps(node: Node) -> None:
    seq = node.state.seq
    result = done(node, f.AddFavourite(user=A, group_name="  Team \t Nord ", colleague="340"))
    assert result == {"group": 1, "entry": 2}
    assert [r.kind for r in node.store.read(seq + 1)] == [
        "favouriteGroupCreated",
        "favouriteColleagueAdded",
    ]
    assert favourites(node, A) == {
        "user": A,
        "groups": [
            {
                "id": 1,
                "name": "Team Nord",  # white space made one space, trimmed
                "entries": [
                    {
                        "id": 2,
                        "kind": "colleague",
                        "user": "340",
                        "name": "Vertrieb",
                        "devices": ["340"],
                    }
                ],
            }
        ],
    }


def test_dir05_a_contact_is_kept_with_its_number_in_e164(node: Node) -> None:
    group = team(node)
    result = done(
        node, f.AddFavourite(user=A, group=group, contact_name="Dr. Meier", number="089 123456")
    )
    assert result == {"group": group, "entry": 3}
    entry = favourites(node, A)["groups"][0]["entries"][1]
    assert entry == {"id": 3, "kind": "contact", "name": "Dr. Meier", "number": "+4989123456"}


def test_dir05_group_name_finds_the_existing_group_whatever_the_case(node: Node) -> None:
    group = team(node)
    assert events(node, f.AddFavourite(user=A, group_name=" TEAM", colleague="333")) == [
        "favouriteColleagueAdded"
    ]
    assert node.state.favourites.of(A).groups[0].id == group
    assert shape(node, A) == [("Team", [B, "333"])]


def test_dir05_adding_what_the_group_holds_again_changes_nothing(node: Node) -> None:
    """A retry (or a second click) is answered with the ids it has; nothing is recorded."""
    group = team(node)
    contact = f.AddFavourite(user=A, group=group, contact_name="Taxi", number="+49 89 21610")
    first = done(node, contact)
    for again in (
        f.AddFavourite(user=A, group_name="team", colleague=B),
        f.AddFavourite(user=A, group=group, contact_name="Taxi", number="0 89 21610"),
    ):
        assert events(node, again) == []
    assert done(node, contact) == first
    assert done(node, f.AddFavourite(user=A, group=group, colleague=B)) == {"group": 1, "entry": 2}


def test_dir05_a_number_the_group_holds_under_another_name_is_refused(node: Node) -> None:
    group = team(node)
    done(node, f.AddFavourite(user=A, group=group, contact_name="Taxi", number="+498921610"))
    err = refused(node, f.AddFavourite(user=A, group=group, contact_name="Cab", number="089 21610"))
    assert (err.name, dict(err.details)) == ("alreadyAFavourite", {"group": 1, "entry": 3})


def test_dir05_one_colleague_may_be_in_several_groups(node: Node) -> None:
    team(node)
    done(node, f.AddFavourite(user=A, group_name="Projekt", colleague=B))
    assert shape(node, A) == [("Team", [B]), ("Projekt", [B])]


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"group": 1, "group_name": "Team", "colleague": B}, "groupName", "oneOf"),
        ({"colleague": B}, "group", "missing"),
        (
            {"group": 1, "colleague": B, "contact_name": "X", "number": "089 1"},
            "colleague",
            "oneOf",
        ),
        ({"group": 1}, "colleague", "missing"),
        ({"group": 1, "number": "089 1"}, "contactName", "missing"),
        ({"group": 1, "contact_name": "X"}, "number", "missing"),
        ({"group": 1, "contact_name": "X", "number": "12ab"}, "number", "notANumber"),
        ({"group": 1, "contact_name": "X", "number": "999"}, "number", "notANumber"),
    ],
)
def test_dir05_an_add_that_does_not_say_what_where_is_refused(
    node: Node, fields: dict[str, object], field: str, reason: str
) -> None:
    team(node)
    err = refused(node, f.AddFavourite(user=A, **fields))
    assert err.name == "invalidParameterValue"
    assert (err.details["field"], err.details["reason"]) == (field, reason), err


@pytest.mark.parametrize("colleague", ["339", "phone-sim", "monitor", "nobody"])
def test_dir05_a_colleague_is_the_account_of_a_person(node: Node, colleague: str) -> None:
    err = refused(node, f.AddFavourite(user=A, group_name="Team", colleague=colleague))
    assert (err.name, dict(err.details)) == ("unknownUser", {"field": "colleague"})


def test_dir05_integrators_and_monitors_have_no_favourites(node: Node) -> None:
    for program in ("phone-sim", "monitor"):
        err = refused(node, f.AddFavourite(user=program, group_name="T", colleague=A), "phone-sim")
        assert (err.name, dict(err.details)) == ("unknownUser", {"field": "user"})


def test_dir05_an_unknown_group_is_refused(node: Node) -> None:
    team(node)
    for command in (
        f.AddFavourite(user=A, group=7, colleague=B),
        f.RenameFavouriteGroup(user=A, group=7, name="X"),
        f.DeleteFavouriteGroup(user=A, group=7),
        f.OrderFavourites(user=A, group=7, entries=()),
        f.AddFavourite(user=B, group=1, colleague=A),  # ids are per user: 1 is A's
    ):
        err = refused(node, command)
        assert (err.name, dict(err.details)) == ("unknownFavouriteGroup", {"group": command.group})


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (" \t ", "empty"),
        ("x" * (MAX_GROUP_NAME + 1), "tooLong"),
        ("a\x00b", "notPrintable"),
        ("a\u200bb", "notPrintable"),
    ],
)
def test_dir05_a_group_name_is_printable_and_at_most_32_characters(
    node: Node, name: str, reason: str
) -> None:
    group = team(node)
    for command, field in (
        (f.AddFavourite(user=A, group_name=name, colleague=B), "groupName"),
        (f.RenameFavouriteGroup(user=A, group=group, name=name), "name"),
    ):
        err = refused(node, command)
        assert err.name == "invalidFavouriteName"
        assert dict(err.details) == {"field": field, "reason": reason, "limit": MAX_GROUP_NAME}
    assert shape(node, A) == [("Team", [B])]
    done(node, f.RenameFavouriteGroup(user=A, group=group, name="y" * MAX_GROUP_NAME))


def test_dir05_a_contact_name_is_at_most_64_characters(node: Node) -> None:
    group = team(node)
    err = refused(node, f.AddFavourite(user=A, group=group, contact_name="x" * 65, number="089 1"))
    assert dict(err.details) == {"field": "contactName", "reason": "tooLong", "limit": 64}
    done(node, f.AddFavourite(user=A, group=group, contact_name="x" * 64, number="089 1"))


def test_dir05_at_most_20_groups_per_user(node: Node) -> None:
    for i in range(MAX_GROUPS):
        done(node, f.AddFavourite(user=A, group_name=f"G{i}", colleague=B))
    err = refused(node, f.AddFavourite(user=A, group_name="one more", colleague=B))
    assert (err.name, dict(err.details)) == ("tooManyFavouriteGroups", {"limit": MAX_GROUPS})
    # An existing group still takes entries; a deleted one makes room.
    done(node, f.AddFavourite(user=A, group_name="g0", colleague="333"))
    done(node, f.DeleteFavouriteGroup(user=A, group=1))
    done(node, f.AddFavourite(user=A, group_name="one more", colleague=B))


def test_dir05_at_most_32_favourites_per_group(node: Node) -> None:
    group = team(node)
    for i in range(MAX_ENTRIES - 1):
        done(
            node, f.AddFavourite(user=A, group=group, contact_name=f"C{i}", number=f"089 100{i:02}")
        )
    err = refused(node, f.AddFavourite(user=A, group=group, contact_name="X", number="089 2"))
    assert (err.name, dict(err.details)) == ("tooManyFavourites", {"group": group, "limit": 32})
    # A duplicate of what is there is still no change, not a refusal.
    assert events(node, f.AddFavourite(user=A, group=group, colleague=B)) == []


# -- remove, rename, delete -------------------------------------------------------------------
def test_dir05_remove_a_favourite(node: Node) -> None:
    team(node)
    done(node, f.AddFavourite(user=A, group=1, colleague="333"))  # entry 3
    assert events(node, f.RemoveFavourite(user=A, entry=2)) == ["favouriteRemoved"]
    assert shape(node, A) == [("Team", ["333"])]
    err = refused(node, f.RemoveFavourite(user=A, entry=2))
    assert (err.name, dict(err.details)) == ("unknownFavourite", {"entry": 2})
    refused(node, f.RemoveFavourite(user=A, entry=1))  # a group's id is no entry's
    # The group stays, empty, until deleted.
    done(node, f.RemoveFavourite(user=A, entry=3))
    assert shape(node, A) == [("Team", [])]


def test_dir05_rename_a_group(node: Node) -> None:
    group = team(node)
    done(node, f.AddFavourite(user=A, group_name="Projekt", colleague="333"))
    assert events(node, f.RenameFavouriteGroup(user=A, group=group, name="Team Süd")) == [
        "favouriteGroupRenamed"
    ]
    assert events(node, f.RenameFavouriteGroup(user=A, group=group, name=" Team  Süd ")) == []
    assert events(node, f.RenameFavouriteGroup(user=A, group=group, name="team süd")) == [
        "favouriteGroupRenamed"  # a change of case is a change
    ]
    err = refused(node, f.RenameFavouriteGroup(user=A, group=group, name="PROJEKT"))
    assert (err.name, dict(err.details)) == ("favouriteGroupExists", {"group": 3})
    assert shape(node, A) == [("team süd", [B]), ("Projekt", ["333"])]


def test_dir05_delete_a_group_with_its_entries_and_ids_are_not_reused(node: Node) -> None:
    group = team(node)
    assert events(node, f.DeleteFavouriteGroup(user=A, group=group)) == ["favouriteGroupDeleted"]
    assert favourites(node, A)["groups"] == []
    assert done(node, f.AddFavourite(user=A, group_name="Team", colleague=B)) == {
        "group": 3,
        "entry": 4,
    }


# -- order ------------------------------------------------------------------------------------
def test_dir05_order_groups(node: Node) -> None:
    team(node)  # 1
    done(node, f.AddFavourite(user=A, group_name="Projekt", colleague="333"))  # 3
    done(
        node, f.AddFavourite(user=A, group_name="Extern", contact_name="Taxi", number="089 21610")
    )  # 5
    assert events(node, f.OrderFavouriteGroups(user=A, groups=(5, 1, 3))) == [
        "favouriteGroupsOrdered"
    ]
    assert [g for g, _ in shape(node, A)] == ["Extern", "Team", "Projekt"]
    assert events(node, f.OrderFavouriteGroups(user=A, groups=(5, 1, 3))) == []
    for wrong in ((5, 1), (5, 1, 3, 3), (5, 1, 1), (5, 1, 3, 9), (5, 1, 2)):
        err = refused(node, f.OrderFavouriteGroups(user=A, groups=wrong))
        assert (err.name, dict(err.details)) == ("notAnOrder", {"expected": [5, 1, 3]})


def test_dir05_order_the_favourites_of_a_group(node: Node) -> None:
    group = team(node)  # entry 2
    done(node, f.AddFavourite(user=A, group=group, colleague="333"))  # 3
    done(node, f.AddFavourite(user=A, group=group, contact_name="Taxi", number="089 21610"))  # 4
    done(node, f.AddFavourite(user=A, group_name="Projekt", colleague="340"))  # group 5, entry 6
    assert events(node, f.OrderFavourites(user=A, group=group, entries=(4, 2, 3))) == [
        "favouritesOrdered"
    ]
    assert shape(node, A) == [("Team", ["Taxi", B, "333"]), ("Projekt", ["340"])]
    assert events(node, f.OrderFavourites(user=A, group=group, entries=(4, 2, 3))) == []
    for wrong in ((4, 2), (4, 2, 3, 6), (4, 2, 2)):  # 6 is in another group
        err = refused(node, f.OrderFavourites(user=A, group=group, entries=wrong))
        assert (err.name, dict(err.details)) == ("notAnOrder", {"expected": [4, 2, 3]})


# -- who may ----------------------------------------------------------------------------------
def every_request(user: str) -> list[object]:
    return [
        f.AddFavourite(user=user, group_name="Team", colleague="333"),
        f.RemoveFavourite(user=user, entry=2),
        f.RenameFavouriteGroup(user=user, group=1, name="X"),
        f.DeleteFavouriteGroup(user=user, group=1),
        f.OrderFavouriteGroups(user=user, groups=(1,)),
        f.OrderFavourites(user=user, group=1, entries=(2,)),
    ]


@pytest.mark.parametrize("sender", [B, "330"])  # another user; an administrator too
def test_dir05_only_the_owner_reads_and_changes_their_favourites(node: Node, sender: str) -> None:
    team(node)
    for command in every_request(A):
        err = refused(node, command, sender)
        assert err.name == "notPermitted" and dict(err.details) == {"field": "user"}, err
    with pytest.raises(Exception, match="notPermitted"):
        node.query(GetFavourites(user=A), sender)


def test_dir05_integrators_act_on_anyones_monitors_only_read(node: Node) -> None:
    team(node)
    assert favourites(node, A) == node.query(GetFavourites(user=A), "monitor")
    err = refused(node, f.RemoveFavourite(user=A, entry=2), "monitor")
    assert err.name == "notPermitted"
    done(node, f.RemoveFavourite(user=A, entry=2), "phone-sim")
    assert node.query(GetFavourites(user=A), "phone-sim") == favourites(node, A)


def test_dir05_a_user_who_must_change_their_password_first_may_not(node: Node) -> None:
    err = refused(node, f.AddFavourite(user="334", group_name="Team", colleague=A))
    assert err.name == "passwordChangeRequired"
    with pytest.raises(Exception, match="passwordChangeRequired"):
        node.query(GetFavourites(user="334"), "334")


# -- accounts ---------------------------------------------------------------------------------
def test_dir05_a_removed_account_leaves_no_favourite_behind(node: Node) -> None:
    """removeAccount removes every entry naming the account (favouriteRemoved, in the same
    commit) and the account's own favourites (favouritesCleared); a new account of that name
    starts with none, and nobody's favourites show it again."""
    team(node)  # A: Team [332]
    done(node, f.AddFavourite(user=A, group=1, contact_name="Taxi", number="089 21610"))
    done(node, f.AddFavourite(user="333", group_name="Chef", colleague=B))
    done(node, f.AddFavourite(user=B, group_name="Mine", colleague=A))
    seq = node.state.seq
    done(node, RemoveAccount(name=B), "330")
    assert [r.kind for r in node.store.read(seq + 1)] == [
        "accountRemoved",
        "favouriteRemoved",  # A's (users in order of their names)
        "favouriteRemoved",  # 333's
        "favouritesCleared",  # B's own
    ]
    assert shape(node, A) == [("Team", ["Taxi"])]
    assert shape(node, "333") == [("Chef", [])]
    assert B not in node.state.favourites.users
    seed = AccountSeed(
        name=B,
        display_name="Clara Wolf",
        role=Role.USER,
        devices=(B,),
        licences=frozenset(),
        password="x",
        broker_password="y",
        must_change=False,
    )
    done(node, SeedAccounts(accounts=(seed,)))
    assert favourites(node, B) == {"user": B, "groups": []}
    assert shape(node, A) == [("Team", ["Taxi"])]


def test_dir05_a_colleague_shows_the_name_and_numbers_their_account_has_now(node: Node) -> None:
    team(node)
    done(node, UpdateAccount(name=B, display_name="Clara Wolf-Berger", devices=(B, "333")), "330")
    [entry] = favourites(node, A)["groups"][0]["entries"]
    assert (entry["name"], entry["devices"]) == ("Clara Wolf-Berger", [B, "333"])


# -- the log ----------------------------------------------------------------------------------
def test_dir05_favourites_survive_replay_and_snapshots(node: Node) -> None:
    team(node)
    done(node, f.AddFavourite(user=A, group=1, contact_name="Taxi", number="089 21610"))
    done(node, f.AddFavourite(user=A, group_name="Projekt", colleague="340"))
    done(node, f.OrderFavouriteGroups(user=A, groups=(4, 1)))
    done(node, f.RenameFavouriteGroup(user=A, group=1, name="Team Süd"))
    done(node, f.AddFavourite(user=B, group_name="Mine", colleague=A))
    assert replay(node.store, use_snapshot=False) == node.state
    assert snapshot.decode(snapshot.encode(node.state)) == node.state
