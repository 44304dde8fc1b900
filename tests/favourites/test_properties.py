"""DIR-05 as a state machine: random add, remove, rename, delete and order requests (and
accounts removed and made again) against a model of a few lines; after every step the
node's favourites are the model's, ids are unique, limits hold, a refused request changed
nothing; at the end the log replays to the same state."""

from __future__ import annotations

from typing import Any

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from cti.accounts.commands import AccountSeed, RemoveAccount, SeedAccounts
from cti.accounts.model import Role
from cti.app.node import Accepted, Node, Refused, replay
from cti.favourites import commands as f
from cti.favourites.model import MAX_ENTRIES, MAX_GROUPS
from cti.kernel.messages import Command
from tests.favourites.helpers import SITE, favourites, seeded

USERS = ("331", "332")  # whose favourites change
COLLEAGUES = ("330", "331", "332", "333")
FEW = ("Team", "team", " Team ", "Projekt")  # mostly these: adds meet what is there
GROUP_NAMES = st.one_of(
    st.sampled_from(FEW), st.sampled_from([f"G{i}" for i in range(MAX_GROUPS + 2)])
)
# (name, as typed, E.164): Taxi and Cab share a number
CONTACTS = (
    ("Taxi", "089 21610", "+498921610"),
    ("Cab", "+49 89 21610", "+498921610"),
    ("Meier", "089 123456", "+4989123456"),
)


@attrs.define
class Group:
    id: int
    name: str
    entries: list[tuple[int, str, str]]  # (id, "colleague"|"contact", account or "name|number")


@attrs.define
class Mine:
    groups: list[Group] = attrs.Factory(list)
    next_id: int = 1

    def take(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def group(self, gid: int) -> Group | None:
        return next((g for g in self.groups if g.id == gid), None)


class Favourites(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.node: Node = seeded()
        self.model: dict[str, Mine] = {u: Mine() for u in COLLEAGUES}
        self.refusals: set[str] = set()

    # -- running a request -----------------------------------------------------------------
    def run(self, command: Command, expected: str | None, by: str | None = None) -> Any:
        """Send ``command``; ``expected``: the refusal the model predicts, None: accepted."""
        before = self.node.state
        outcome = self.node.execute(command, by or getattr(command, "user", None))
        if expected is None:
            assert isinstance(outcome, Accepted), (command, outcome)
            return outcome.result
        assert isinstance(outcome, Refused), (command, "accepted, expected", expected)
        assert outcome.error.name == expected, (command, outcome.error)
        assert self.node.state is before
        self.refusals.add(expected)
        return None

    def ids(self, user: str) -> list[int]:
        m = self.model[user]
        return [g.id for g in m.groups] + [e[0] for g in m.groups for e in g.entries]

    # -- rules -------------------------------------------------------------------------------
    @rule(
        user=st.sampled_from(USERS),
        by_name=st.booleans(),
        name=GROUP_NAMES,
        gid=st.integers(1, 40),
        colleague=st.one_of(st.none(), st.sampled_from(COLLEAGUES)),
        contact=st.sampled_from(CONTACTS),
    )
    def add(
        self,
        user: str,
        by_name: bool,
        name: str,
        gid: int,
        colleague: str | None,
        contact: tuple[str, str, str],
    ) -> None:
        m = self.model[user]
        if colleague is not None:
            entry = ("colleague", colleague)
            fields: dict[str, Any] = {"colleague": colleague}
        else:
            entry = ("contact", f"{contact[0]}|{contact[2]}")
            fields = {"contact_name": contact[0], "number": contact[1]}
        where: dict[str, Any] = {"group_name": name} if by_name else {"group": gid}
        command = f.AddFavourite(user=user, **where, **fields)
        clean = name.strip()
        group = (
            next((g for g in m.groups if g.name.casefold() == clean.casefold()), None)
            if by_name
            else m.group(gid)
        )
        if group is None and not by_name:
            self.run(command, "unknownFavouriteGroup")
            return
        if group is not None:
            for eid, kind, key in group.entries:
                if (kind, key) == entry:
                    assert self.run(command, None) == {"group": group.id, "entry": eid}
                    return
                if kind == entry[0] == "contact" and key.split("|")[1] == contact[2]:
                    self.run(command, "alreadyAFavourite")
                    return
            if len(group.entries) >= MAX_ENTRIES:
                self.run(command, "tooManyFavourites")
                return
        elif len(m.groups) >= MAX_GROUPS:
            self.run(command, "tooManyFavouriteGroups")
            return
        result = self.run(command, None)
        if group is None:
            group = Group(m.take(), clean, [])
            m.groups.append(group)
        group.entries.append((m.take(), *entry))
        assert result == {"group": group.id, "entry": group.entries[-1][0]}

    @precondition(
        lambda self: any(
            e[1] == "contact" for u in USERS for g in self.model[u].groups for e in g.entries
        )
    )
    @rule(data=st.data(), contact=st.sampled_from(CONTACTS))
    def contact_again(self, data: st.DataObject, contact: tuple[str, str, str]) -> None:
        """A contact added to a group that has contacts: the same again, or another name
        for a number it holds (random adds seldom meet in one group)."""
        user, group = data.draw(
            st.sampled_from(
                [
                    (u, g)
                    for u in USERS
                    for g in self.model[u].groups
                    if any(e[1] == "contact" for e in g.entries)
                ]
            )
        )
        self.add(user, False, "", group.id, None, contact)

    @rule(user=st.sampled_from(USERS))
    def fill_groups(self, user: str) -> None:
        """Up to the limit of groups and one beyond (random adds seldom get there)."""
        for i in range(MAX_GROUPS + 1):
            self.add(user, True, f"G{i}", 0, "330", CONTACTS[0])

    @precondition(lambda self: any(self.model[u].groups for u in USERS))
    @rule(data=st.data())
    def fill_a_group(self, data: st.DataObject) -> None:
        """Up to the limit of entries and one beyond, with contacts of numbers of their own."""
        user = data.draw(st.sampled_from([u for u in USERS if self.model[u].groups]))
        group = data.draw(st.sampled_from(self.model[user].groups))
        for i in range(MAX_ENTRIES + 1):
            contact = (f"C{i}", f"089 55{i:02}", f"+498955{i:02}")
            self.add(user, False, "", group.id, None, contact)

    @rule(user=st.sampled_from(USERS), data=st.data())
    def remove(self, user: str, data: st.DataObject) -> None:
        m = self.model[user]
        eid = data.draw(st.sampled_from([*self.ids(user), 99]))
        for g in m.groups:
            if any(e[0] == eid for e in g.entries):
                self.run(f.RemoveFavourite(user=user, entry=eid), None)
                g.entries = [e for e in g.entries if e[0] != eid]
                return
        self.run(f.RemoveFavourite(user=user, entry=eid), "unknownFavourite")

    @rule(user=st.sampled_from(USERS), name=GROUP_NAMES, data=st.data())
    def rename(self, user: str, name: str, data: st.DataObject) -> None:
        m = self.model[user]
        gid = data.draw(st.sampled_from([*(g.id for g in m.groups), 99]))
        command = f.RenameFavouriteGroup(user=user, group=gid, name=name)
        group, clean = m.group(gid), name.strip()
        if group is None:
            self.run(command, "unknownFavouriteGroup")
        elif any(g.name.casefold() == clean.casefold() and g.id != gid for g in m.groups):
            self.run(command, "favouriteGroupExists")
        else:
            self.run(command, None)
            group.name = clean

    @rule(user=st.sampled_from(USERS), data=st.data())
    def delete(self, user: str, data: st.DataObject) -> None:
        m = self.model[user]
        gid = data.draw(st.sampled_from([*(g.id for g in m.groups), 99]))
        if m.group(gid) is None:
            self.run(f.DeleteFavouriteGroup(user=user, group=gid), "unknownFavouriteGroup")
        else:
            self.run(f.DeleteFavouriteGroup(user=user, group=gid), None)
            m.groups = [g for g in m.groups if g.id != gid]

    @rule(user=st.sampled_from(USERS), data=st.data(), spoil=st.booleans())
    def order_groups(self, user: str, data: st.DataObject, spoil: bool) -> None:
        m = self.model[user]
        order = data.draw(st.permutations([g.id for g in m.groups]))
        if spoil:  # one missing, or one twice, or one that is not a group of the user
            order = data.draw(
                st.sampled_from([order[1:], [*order, *order[:1]], [*order, 99]]).filter(
                    lambda o: sorted(o) != sorted(g.id for g in m.groups)
                )
            )
            self.run(f.OrderFavouriteGroups(user=user, groups=tuple(order)), "notAnOrder")
            return
        self.run(f.OrderFavouriteGroups(user=user, groups=tuple(order)), None)
        m.groups.sort(key=lambda g: order.index(g.id))

    @precondition(lambda self: any(self.model[u].groups for u in USERS))
    @rule(data=st.data(), spoil=st.booleans())
    def order_entries(self, data: st.DataObject, spoil: bool) -> None:
        user = data.draw(st.sampled_from([u for u in USERS if self.model[u].groups]))
        group = data.draw(st.sampled_from(self.model[user].groups))
        ids = [e[0] for e in group.entries]
        order = data.draw(st.permutations(ids))
        if spoil:
            order = [*order, group.id]  # a group's id is no entry's
            command = f.OrderFavourites(user=user, group=group.id, entries=tuple(order))
            self.run(command, "notAnOrder")
            return
        self.run(f.OrderFavourites(user=user, group=group.id, entries=tuple(order)), None)
        group.entries.sort(key=lambda e: order.index(e[0]))

    @rule(user=st.sampled_from(USERS), other=st.sampled_from(COLLEAGUES))
    def someone_else(self, user: str, other: str) -> None:
        """Another user (an administrator too) may neither read nor change them."""
        if other != user:
            self.run(f.DeleteFavouriteGroup(user=user, group=1), "notPermitted", by=other)

    @rule(name=st.sampled_from(("332", "333")))
    def account_removed_and_made_again(self, name: str) -> None:
        self.run(RemoveAccount(name=name), None, by="330")
        for m in self.model.values():
            for g in m.groups:
                g.entries = [e for e in g.entries if e[1:] != ("colleague", name)]
        self.model[name] = Mine()
        seed = AccountSeed(
            name=name,
            display_name=SITE.devices[name].name,
            role=Role.USER,
            devices=(name,),
            licences=frozenset(),
            password="x",
            broker_password="y",
            must_change=False,
        )
        self.run(SeedAccounts(accounts=(seed,)), None)

    # -- what must hold ----------------------------------------------------------------------
    @invariant()
    def the_node_shows_the_model(self) -> None:
        for user in USERS:
            shown = favourites(self.node, user)["groups"]
            expected = [
                (g.id, g.name, [(e[0], e[1], e[2]) for e in g.entries])
                for g in self.model[user].groups
            ]
            actual = [
                (
                    g["id"],
                    g["name"],
                    [
                        (
                            e["id"],
                            e["kind"],
                            e["user"] if e["kind"] == "colleague" else f"{e['name']}|{e['number']}",  # type: ignore[typeddict-item]
                        )
                        for e in g["entries"]
                    ],
                )
                for g in shown
            ]
            assert actual == expected
            ids = self.ids(user)
            assert len(ids) == len(set(ids))
            assert len(shown) <= MAX_GROUPS
            assert all(len(g["entries"]) <= MAX_ENTRIES for g in shown)

    def teardown(self) -> None:
        assert replay(self.node.store, use_snapshot=False) == self.node.state
        SEEN.update(self.refusals)


SEEN: set[str] = set()
REFUSALS = {
    "unknownFavouriteGroup",
    "unknownFavourite",
    "alreadyAFavourite",
    "favouriteGroupExists",
    "tooManyFavouriteGroups",
    "tooManyFavourites",
    "notAnOrder",
    "notPermitted",
}


def test_dir05_favourites_behave_like_the_model() -> None:
    """...and the runs together met every refusal the model predicts (a machine that never
    reached a limit would prove little about it)."""
    SEEN.clear()
    run_state_machine_as_test(
        Favourites,
        settings=settings(max_examples=80, stateful_step_count=30, deadline=None, derandomize=True),
    )
    assert SEEN == REFUSALS
