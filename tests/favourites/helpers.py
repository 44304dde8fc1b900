"""The example office with people's accounts (stand-in hashes: nothing here signs in), and
shorthands to run favourites requests as a signed-in user."""

from __future__ import annotations

from typing import Any

from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Role
from cti.app.clock import ManualClock
from cti.app.config import load_site
from cti.app.node import Accepted, Node, Refused
from cti.favourites.queries import GetFavourites
from cti.favourites.views import FavouritesView
from cti.kernel.messages import Command
from cti.kernel.refusal import Refusal
from cti.store import MemoryStore

SITE = load_site()
# name: (role, must change the password first)
ACCOUNTS = {
    "330": (Role.ADMIN, False),
    "331": (Role.USER, False),
    "332": (Role.USER, False),
    "333": (Role.USER, False),
    "340": (Role.USER, False),  # the MULAP user: their lamp is 340's
    "334": (Role.USER, True),  # must change the password first
    "phone-sim": (Role.INTEGRATOR, False),
    "monitor": (Role.MONITOR, False),
}


def seeded() -> Node:
    node = Node(SITE, MemoryStore(), ManualClock())
    seeds = tuple(
        AccountSeed(
            name=name,
            display_name=SITE.devices[name].name if name in SITE.devices else name,
            role=role,
            devices=(name,) if name in SITE.devices else (),
            licences=frozenset(),
            password="argon2id-stand-in",
            broker_password="$7$-stand-in",
            must_change=must_change,
        )
        for name, (role, must_change) in ACCOUNTS.items()
    )
    assert node.execute(SeedAccounts(accounts=seeds)).ok
    return node


def done(node: Node, command: Command, by: str | None = None) -> dict[str, Any]:
    """Run ``command`` as ``by`` (default: the user it names); it must be accepted."""
    outcome = node.execute(command, by if by is not None else getattr(command, "user", None))
    assert isinstance(outcome, Accepted), f"{command} refused: {outcome}"
    return dict(outcome.result)


def events(node: Node, command: Command, by: str | None = None) -> list[str]:
    """The kinds of the events ``command`` records."""
    seq = node.state.seq
    done(node, command, by)
    return [r.kind for r in node.store.read(seq + 1)]


def refused(node: Node, command: Command, by: str | None = None) -> Refusal:
    """Run ``command``; it must be refused and change nothing at all."""
    before, last = node.state, node.store.last_seq()
    outcome = node.execute(command, by if by is not None else getattr(command, "user", None))
    assert isinstance(outcome, Refused), f"{command} by {by} was accepted"
    assert node.state is before and node.store.last_seq() == last
    return outcome.error


def favourites(node: Node, user: str) -> FavouritesView:
    result = node.query(GetFavourites(user=user), user)
    assert isinstance(result, dict)
    return result  # type: ignore[return-value]


def shape(node: Node, user: str) -> list[tuple[str, list[str]]]:
    """A user's favourites in short: (group name, [colleague account or contact name])."""
    out = []
    for g in favourites(node, user)["groups"]:
        names = [str(e.get("user", e["name"])) for e in g["entries"]]
        out.append((g["name"], names))
    return out
