"""Where the personal directory services are decided (DIR-01). Every check runs before the
first event, so a refused request changes nothing; one that changes nothing records nothing."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from cti.accounts.profiles import canonical_email, canonical_number
from cti.directory import commands as cmd
from cti.directory import events as ev
from cti.directory.fileimport import REJECTED_SHOWN, Rejected
from cti.directory.folding import match_key
from cti.directory.model import (
    MAX_CONTACTS,
    MAX_NAME,
    Contact,
    Number,
    NumberLabel,
    PersonalDirectory,
)
from cti.favourites.services import person
from cti.kernel.decision import Decision
from cti.kernel.refusal import Refusal, invalid_field

if TYPE_CHECKING:
    from cti.domain.state import NodeState

REFUSALS = frozenset(
    {
        "unknownUser",
        "notPermitted",
        "invalidParameterValue",
        "unknownContact",
        "contactExists",
        "tooManyContacts",
        "unusableFile",
        "unknownUpload",
    }
)


def _mine(d: Decision[NodeState], user: str) -> PersonalDirectory:
    person(d.state, user, "user")
    return d.state.directory.of(user)


def _text(field: str, text: str | None) -> str:
    value = " ".join((text or "").split())
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise invalid_field(field, "notPrintable", f"{field} holds characters that do not print")
    if len(value) > MAX_NAME:
        raise invalid_field(field, "tooLong", f"{field} has at most {MAX_NAME} characters")
    return value


def _contact(d: Decision[NodeState], c: cmd.AddContact | cmd.ChangeContact, cid: int) -> Contact:
    """The contact ``c`` describes, checked and canonical."""
    name, company = _text("name", c.name), _text("company", c.company)
    if not name:
        raise invalid_field("name", "empty", "a contact needs a name")
    numbers: list[Number] = []
    for label in NumberLabel:
        text = getattr(c, label.value)
        if text is not None and text.strip():
            number = canonical_number(d.site, label.value, text)
            if all(n.number != number for n in numbers):
                numbers.append(Number(label, number))
    if not numbers:
        raise invalid_field(
            "business", "missing", "a contact needs a number (business, mobile, home or other)"
        )
    email = None if not c.email or not c.email.strip() else canonical_email(c.email)
    return Contact(cid, name, company, tuple(numbers), email, manual=True)


def _exists(other: Contact) -> Refusal:
    return Refusal(
        "contactExists",
        f"the directory has {other.name!r} already (contact {other.id})",
        {"id": other.id},
    )


def add_contact(d: Decision[NodeState], c: cmd.AddContact) -> None:
    directory = _mine(d, c.user)
    new = _contact(d, c, directory.next_id)
    same = directory.keyed(match_key(new.name, new.company))
    if same is not None:
        if same.same_data(new) and same.manual:
            d.result = {"id": same.id}  # a retry: nothing changes
            return
        raise _exists(same)
    if len(directory.contacts) >= MAX_CONTACTS:
        raise Refusal(
            "tooManyContacts", f"a directory holds {MAX_CONTACTS} contacts", {"limit": MAX_CONTACTS}
        )
    d.emit(ev.ContactAdded(user=c.user, contact=new))
    d.result = {"id": new.id}


def _known(directory: PersonalDirectory, cid: int) -> Contact:
    contact = directory.contact(cid)
    if contact is None:
        raise Refusal("unknownContact", f"there is no contact {cid}", {"id": cid})
    return contact


def change_contact(d: Decision[NodeState], c: cmd.ChangeContact) -> None:
    directory = _mine(d, c.user)
    old = _known(directory, c.id)
    new = _contact(d, c, c.id)
    other = directory.keyed(match_key(new.name, new.company))
    if other is not None and other.id != c.id:
        raise _exists(other)
    if new != old:  # the same data again still makes an imported contact manual
        d.emit(ev.ContactChanged(user=c.user, contact=new))


def delete_contact(d: Decision[NodeState], c: cmd.DeleteContact) -> None:
    _known(_mine(d, c.user), c.id)
    d.emit(ev.ContactDeleted(user=c.user, id=c.id))


def import_contacts(d: Decision[NodeState], c: cmd.ImportContactsChecked) -> None:
    directory = _mine(d, c.user)
    rejected = list(c.rejected)
    seen: dict[str, int] = {}
    out: list[Contact] = []
    added = updated = unchanged = kept = 0
    next_id = directory.next_id
    for row in c.rows:
        key = match_key(row.name, row.company)
        if key in seen:
            rejected.append(
                Rejected(row.line, "duplicate", f"the same contact as line {seen[key]}")
            )
            continue
        seen[key] = row.line
        old = directory.keyed(key)
        if old is not None and old.manual:
            unchanged += 1
            kept += 1
            continue
        new = Contact(
            next_id if old is None else old.id,
            row.name,
            row.company,
            row.numbers,
            row.email,
            manual=False,
        )
        if old is None:
            if len(directory.contacts) + added >= MAX_CONTACTS:
                rejected.append(
                    Rejected(row.line, "directoryFull", f"the directory holds {MAX_CONTACTS}")
                )
                continue
            next_id += 1
            added += 1
        elif old.same_data(new):
            unchanged += 1
            continue
        else:
            updated += 1
        out.append(new)
    if not c.dry_run:
        for start in range(0, len(out), ev.CHUNK):
            d.emit(ev.ContactsImported(user=c.user, contacts=tuple(out[start : start + ev.CHUNK])))
    rejected.sort(key=lambda r: r.line)
    d.result = cmd.ImportReport(
        dryRun=c.dry_run,
        added=added,
        updated=updated,
        unchanged=unchanged,
        keptManual=kept,
        rejected=len(rejected),
        rejectedLines=[
            cmd.RejectedLine(line=r.line, reason=r.reason, message=r.message)
            for r in rejected[:REJECTED_SHOWN]
        ],
        encoding=c.encoding,
        delimiter=c.delimiter,
    )


def forget_user(d: Decision[NodeState], name: str) -> None:
    """An account is being removed (removeAccount): its personal directory goes with it."""
    if name in d.state.directory.users:
        d.emit(ev.PersonalDirectoryCleared(user=name))


SERVICES: dict[type[Any], Any] = {
    cmd.AddContact: add_contact,
    cmd.ChangeContact: change_contact,
    cmd.DeleteContact: delete_contact,
    cmd.ImportContactsChecked: import_contacts,
}
