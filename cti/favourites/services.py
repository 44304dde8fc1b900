"""Where the favourites services are decided (DIR-05). Every check runs before the first
event, so a refused request changes nothing; a request that changes nothing records nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cti.accounts.model import PEOPLE
from cti.accounts.profiles import canonical_number
from cti.favourites import commands as cmd
from cti.favourites import events as ev
from cti.favourites import names
from cti.favourites.model import (
    MAX_CONTACT_NAME,
    MAX_ENTRIES,
    MAX_GROUP_NAME,
    MAX_GROUPS,
    Colleague,
    Contact,
    Entry,
    Favourites,
    Group,
)
from cti.kernel.decision import Decision
from cti.kernel.messages import Event
from cti.kernel.refusal import Refusal, invalid_field

if TYPE_CHECKING:
    from cti.domain.state import NodeState

REFUSALS = frozenset(
    {
        "unknownUser",
        "notPermitted",
        "invalidParameterValue",
        "invalidFavouriteName",
        "unknownFavouriteGroup",
        "unknownFavourite",
        "favouriteGroupExists",
        "alreadyAFavourite",
        "tooManyFavouriteGroups",
        "tooManyFavourites",
        "notAnOrder",
    }
)


def person(state: NodeState, name: str, field: str) -> None:
    """Refuse unless ``name`` is the account of a person (integrators and monitors are
    programs: they neither have favourites nor are one)."""
    account = state.accounts.account(name)
    if account is None or account.role not in PEOPLE:
        raise Refusal("unknownUser", f"{field}: there is no user account {name}", {"field": field})


def _mine(d: Decision[NodeState], user: str) -> Favourites:
    person(d.state, user, "user")
    return d.state.favourites.of(user)


def _group(favourites: Favourites, group_id: int) -> Group:
    group = favourites.group(group_id)
    if group is None:
        raise Refusal(
            "unknownFavouriteGroup", f"there is no favourites group {group_id}", {"group": group_id}
        )
    return group


# -- addFavourite -----------------------------------------------------------------------------
def _entry(d: Decision[NodeState], c: cmd.AddFavourite) -> Colleague | Contact:
    """What ``c`` adds, checked and canonical, with id 0 (assigned when it is added)."""
    contact = c.contact_name is not None or c.number is not None
    if c.colleague is not None:
        if contact:
            raise invalid_field("colleague", "oneOf", "give a colleague or a contact, not both")
        person(d.state, c.colleague, "colleague")
        return Colleague(0, c.colleague)
    if not contact:
        raise invalid_field(
            "colleague", "missing", "give a colleague or a contact (contactName, number)"
        )
    if c.contact_name is None:
        raise invalid_field("contactName", "missing", "a contact needs a name (contactName)")
    if c.number is None:
        raise invalid_field("number", "missing", "a contact needs a number")
    name = names.clean("contactName", c.contact_name, MAX_CONTACT_NAME)
    return Contact(0, name, canonical_number(d.site, "number", c.number))


def _target(favourites: Favourites, c: cmd.AddFavourite) -> Group | str:
    """The group ``c`` adds to, or the (clean) name of the group it makes."""
    if c.group is not None:
        if c.group_name is not None:
            raise invalid_field("groupName", "oneOf", "give group or groupName, not both")
        return _group(favourites, c.group)
    if c.group_name is None:
        raise invalid_field("group", "missing", "give group (an id) or groupName")
    name = names.clean("groupName", c.group_name, MAX_GROUP_NAME)
    return favourites.named(name) or name


def _same(group: Group, new: Colleague | Contact) -> Entry | None:
    """The entry of ``group`` that is ``new`` again (the same colleague, the same number);
    refuses a number the group holds under another name."""
    for entry in group.entries:
        if isinstance(new, Colleague) and isinstance(entry, Colleague):
            if entry.account == new.account:
                return entry
        elif isinstance(new, Contact) and isinstance(entry, Contact) and entry.number == new.number:
            if entry.name != new.name:
                raise Refusal(
                    "alreadyAFavourite",
                    f"{group.name!r} has {new.number} already, as {entry.name!r}",
                    {"group": group.id, "entry": entry.id},
                )
            return entry
    return None


def add_favourite(d: Decision[NodeState], c: cmd.AddFavourite) -> None:
    favourites = _mine(d, c.user)
    new = _entry(d, c)
    target = _target(favourites, c)
    if isinstance(target, Group):
        same = _same(target, new)
        if same is not None:  # a retry, or a second click: nothing changes
            d.result = {"group": target.id, "entry": same.id}
            return
        if len(target.entries) >= MAX_ENTRIES:
            raise Refusal(
                "tooManyFavourites",
                f"{target.name!r} has {MAX_ENTRIES} favourites, the most a group has",
                {"group": target.id, "limit": MAX_ENTRIES},
            )
        group_id = target.id
    else:
        if len(favourites.groups) >= MAX_GROUPS:
            raise Refusal(
                "tooManyFavouriteGroups",
                f"{c.user} has {MAX_GROUPS} favourites groups, the most a user has",
                {"limit": MAX_GROUPS},
            )
        group_id = favourites.next_id
        d.emit(ev.FavouriteGroupCreated(user=c.user, group=group_id, name=target))
    entry_id = d.state.favourites.of(c.user).next_id
    added: Event
    if isinstance(new, Colleague):
        added = ev.FavouriteColleagueAdded(
            user=c.user, group=group_id, entry=entry_id, account=new.account
        )
    else:
        added = ev.FavouriteContactAdded(
            user=c.user, group=group_id, entry=entry_id, name=new.name, number=new.number
        )
    d.emit(added)
    d.result = {"group": group_id, "entry": entry_id}


# -- the others -------------------------------------------------------------------------------
def remove_favourite(d: Decision[NodeState], c: cmd.RemoveFavourite) -> None:
    if _mine(d, c.user).find(c.entry) is None:
        raise Refusal("unknownFavourite", f"there is no favourite {c.entry}", {"entry": c.entry})
    d.emit(ev.FavouriteRemoved(user=c.user, entry=c.entry))


def rename_group(d: Decision[NodeState], c: cmd.RenameFavouriteGroup) -> None:
    favourites = _mine(d, c.user)
    group = _group(favourites, c.group)
    name = names.clean("name", c.name, MAX_GROUP_NAME)
    other = favourites.named(name)
    if other is not None and other.id != group.id:
        raise Refusal(
            "favouriteGroupExists", f"there is a group {other.name!r} already", {"group": other.id}
        )
    if name != group.name:  # a change of case only is a change
        d.emit(ev.FavouriteGroupRenamed(user=c.user, group=c.group, name=name))


def delete_group(d: Decision[NodeState], c: cmd.DeleteFavouriteGroup) -> None:
    _group(_mine(d, c.user), c.group)
    d.emit(ev.FavouriteGroupDeleted(user=c.user, group=c.group))


def _order(given: tuple[int, ...], current: tuple[int, ...], what: str) -> bool:
    """Whether ``given`` changes the order; refuses one that is not ``current`` reordered
    (the client's view is out of date: ``details.expected`` is the node's)."""
    if len(given) != len(current) or set(given) != set(current):
        raise Refusal(
            "notAnOrder",
            f"name every {what} once: {list(current)} in the order wanted",
            {"expected": list(current)},
        )
    return given != current


def order_groups(d: Decision[NodeState], c: cmd.OrderFavouriteGroups) -> None:
    current = tuple(g.id for g in _mine(d, c.user).groups)
    if _order(c.groups, current, "group"):
        d.emit(ev.FavouriteGroupsOrdered(user=c.user, groups=c.groups))


def order_entries(d: Decision[NodeState], c: cmd.OrderFavourites) -> None:
    group = _group(_mine(d, c.user), c.group)
    if _order(c.entries, tuple(e.id for e in group.entries), "favourite of the group"):
        d.emit(ev.FavouritesOrdered(user=c.user, group=c.group, entries=c.entries))


def forget_account(d: Decision[NodeState], name: str) -> None:
    """An account is being removed (removeAccount): no favourite may point at it any more,
    and its own favourites go (cti.accounts.services calls this in the same decision)."""
    for user, favourites in sorted(d.state.favourites.users.items()):
        if user != name:
            for entry in favourites.pointing_at(name):
                d.emit(ev.FavouriteRemoved(user=user, entry=entry))
    if name in d.state.favourites.users:
        d.emit(ev.FavouritesCleared(user=name))


SERVICES: dict[type[Any], Any] = {
    cmd.AddFavourite: add_favourite,
    cmd.RemoveFavourite: remove_favourite,
    cmd.RenameFavouriteGroup: rename_group,
    cmd.DeleteFavouriteGroup: delete_group,
    cmd.OrderFavouriteGroups: order_groups,
    cmd.OrderFavourites: order_entries,
}
