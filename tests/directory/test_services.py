"""DIR-01: adding, editing and deleting contacts, and every refusal. A refused request changes
nothing (``refused`` checks the state and the log); one that changes nothing records nothing."""

from __future__ import annotations

import pytest

from cti.accounts.commands import RemoveAccount
from cti.app.node import Node, replay
from cti.directory import commands as c
from cti.directory.entries import Directory
from cti.directory.queries import GetContacts, GetDirectoryEntry
from cti.domain import snapshot
from tests.directory.helpers import contacts, done, imported, refused, seeded

A, B = "331", "332"


@pytest.fixture
def node() -> Node:
    return seeded()


def test_dir01_a_contact_added_is_kept_canonical_and_manual(node: Node) -> None:
    seq = node.state.seq
    added = done(
        node,
        c.AddContact(
            user=A,
            name="  Dr.  Meier ",
            company="Praxis",
            business="089 123456",
            mobile="+49 171 1234567",
            email="Meier@Praxis.DE",
        ),
    )
    assert added == {"id": 1}
    assert [r.kind for r in node.store.read(seq + 1)] == ["contactAdded"]
    entry = node.query(GetDirectoryEntry(user=A, directory=Directory.PERSONAL, id="1"), A)
    assert entry == {
        "directory": "personal",
        "id": "1",
        "name": "Dr. Meier",
        "company": "Praxis",
        "numbers": [
            {"label": "business", "number": "+4989123456"},
            {"label": "mobile", "number": "+491711234567"},
        ],
        "email": "Meier@praxis.de",
        "origin": "manual",
    }
    # The same again is a retry: its id, nothing recorded.
    seq = node.state.seq
    again = c.AddContact(
        user=A,
        name="Dr. Meier",
        company="Praxis",
        business="089 123456",
        mobile="0171 1234567",
        email="Meier@praxis.de",
    )
    assert done(node, again) == {"id": 1}
    assert node.state.seq == seq


@pytest.mark.parametrize(
    ("command", "name", "details"),
    [
        (
            c.AddContact(user=A, name="X"),
            "invalidParameterValue",
            {"field": "business", "reason": "missing"},
        ),
        (
            c.AddContact(user=A, name="   ", mobile="0171 1234567"),
            "invalidParameterValue",
            {"field": "name", "reason": "empty"},
        ),
        (
            c.AddContact(user=A, name="A\u200bB", mobile="0171 1234567"),
            "invalidParameterValue",
            {"field": "name", "reason": "notPrintable"},
        ),
        (
            c.AddContact(user=A, name="X", mobile="abc"),
            "invalidParameterValue",
            {"field": "mobile", "reason": "notANumber"},
        ),
        (
            c.AddContact(user=A, name="X", mobile="0171 1234567", email="no"),
            "invalidParameterValue",
            {"field": "email", "reason": "notAnEmailAddress"},
        ),
        (
            c.AddContact(user="nobody", name="X", mobile="0171 1234567"),
            "unknownUser",
            {"field": "user"},
        ),
        (
            c.ChangeContact(user=A, id=9, name="X", mobile="0171 1234567"),
            "unknownContact",
            {"id": 9},
        ),
        (c.DeleteContact(user=A, id=9), "unknownContact", {"id": 9}),
    ],
)
def test_dir01_bad_requests_are_refused_and_change_nothing(
    node: Node, command: c.AddContact, name: str, details: dict[str, object]
) -> None:
    refusal = refused(node, command, by="phone-sim")  # the integrator may name anyone
    assert (refusal.name, dict(refusal.details)) == (name, details)


def test_dir01_only_the_owner_reads_and_changes_a_personal_directory(node: Node) -> None:
    done(node, c.AddContact(user=A, name="Geheim", mobile="0171 1234567"))
    for command in (
        c.AddContact(user=A, name="X", mobile="0171 7654321"),
        c.ChangeContact(user=A, id=1, name="X", mobile="0171 7654321"),
        c.DeleteContact(user=A, id=1),
    ):
        assert refused(node, command, by=B).name == "notPermitted"
    for query in (
        GetContacts(user=A),
        GetDirectoryEntry(user=A, directory=Directory.PERSONAL, id="1"),
    ):
        with pytest.raises(Exception, match="notPermitted"):
            node.query(query, B)
    # B's own personal directory is empty: A's contact is no entry of it.
    with pytest.raises(Exception, match="unknownEntry"):
        node.query(GetDirectoryEntry(user=B, directory=Directory.PERSONAL, id="1"), B)


def test_dir01_two_contacts_of_one_name_and_company_are_refused(node: Node) -> None:
    done(node, c.AddContact(user=A, name="Anna", mobile="0171 1000001"))
    done(node, c.AddContact(user=A, name="Anna", company="ACME", mobile="0171 1000002"))
    refusal = refused(node, c.AddContact(user=A, name="ANNA", mobile="0171 1000003"))
    assert (refusal.name, refusal.details) == ("contactExists", {"id": 1})
    refusal = refused(node, c.ChangeContact(user=A, id=2, name="anna", mobile="0171 1000002"))
    assert (refusal.name, refusal.details) == ("contactExists", {"id": 1})


def test_dir01_an_edit_replaces_the_contact_and_a_delete_removes_it(node: Node) -> None:
    imported(node, b"Name,Mobile,Email\nAnna,0171 1000001,a@example.de\n")
    done(node, c.ChangeContact(user=A, id=1, name="Anna Schmidt", home="089 1234567"))
    assert contacts(node) == [("Anna Schmidt", "", ["+49891234567"], "manual")]
    seq = node.state.seq  # the same data again: nothing to record
    done(node, c.ChangeContact(user=A, id=1, name="Anna Schmidt", home="089 1234567"))
    assert node.state.seq == seq
    done(node, c.DeleteContact(user=A, id=1))
    assert contacts(node) == []
    # Ids are never reused while the directory lives.
    assert done(node, c.AddContact(user=A, name="Ben", mobile="0171 1000002")) == {"id": 2}


def test_dir01_a_removed_account_takes_its_personal_directory_along(node: Node) -> None:
    done(node, c.AddContact(user=B, name="Anna", mobile="0171 1000001"))
    seq = node.state.seq
    done(node, RemoveAccount(name=B), by="330")
    kinds = [r.kind for r in node.store.read(seq + 1)]
    assert kinds[-1] == "personalDirectoryCleared"
    assert B not in node.state.directory.users


def test_dir01_replay_and_snapshot_give_the_same_directory(node: Node) -> None:
    imported(node, "Name,Firma,Mobil\nJörg Müller,ACME,0171 1000001\nBen,,0171 1000002\n".encode())
    done(node, c.ChangeContact(user=A, id=2, name="Ben", mobile="0171 1000003"))
    done(node, c.AddContact(user=B, name="Carl", mobile="0171 1000004"))
    done(node, c.DeleteContact(user=A, id=1))
    replayed = replay(node.store)
    assert replayed.directory == node.state.directory
    assert snapshot.decode(snapshot.encode(node.state)).directory == node.state.directory
    # The lookups are rebuilt with the contacts.
    assert [x.name for x in replayed.directory.of(A).with_number("+491711000003")] == ["Ben"]
    assert replayed.directory.of(A).with_number("+491711000002") == []
