"""The broker's side of authorization: the password file and ACL files Mosquitto checks,
rendered from the node's accounts (specs/security.md, "Topics: who reads and writes").

Pure: the same accounts and site always give the same text, so the files can be compared,
rewritten only when they change, and diffed by an operator.
"""

from __future__ import annotations

from collections.abc import Iterable

from cti.accounts.access import controlled
from cti.accounts.model import Account, Role
from cti.mqtt.topics import Topics
from cti.site import Site

HEADER = "# Written by cti from the node's accounts; edits are overwritten (specs/security.md).\n"


def node_user(node: str) -> str:
    """The account the node itself signs in with (no site account may start with cti-)."""
    return f"cti-{node}"


def password_file(accounts: Iterable[Account], node: str, node_hash: str) -> str:
    """Mosquitto's ``user:$7$...`` lines: the node, then every account that can sign in."""
    lines = [f"{node_user(node)}:{node_hash}"]
    lines += [f"{a.name}:{a.broker_password}" for a in sorted(accounts, key=_name) if a.can_sign_in]
    return "\n".join(lines) + "\n"


def _name(account: Account) -> str:
    return account.name


def readers_topics(topics: Topics) -> list[str]:
    """What integrators and monitors read: every published topic, no one's inbox."""
    b = topics.base
    return [
        f"{b}/devices/+/state",
        f"{b}/devices/+/events",
        f"{b}/calls/+/events",
        f"{b}/events",
        f"{b}/users/+/presence",
    ]


def own_devices(site: Site, account: Account) -> list[str]:
    """The configured devices whose full state and events a user reads."""
    return sorted(d for d in controlled(site, account) if d in site.devices)


def acl_file(site: Site, accounts: Iterable[Account], *, tls: bool) -> str:
    """The ACL of one listener; only the TLS listener's lets accounts write ``secure``."""
    topics = Topics(site.node)
    b = topics.base
    out = [HEADER, "# Every account (%u is the signed-in name)."]
    for line in (
        f"read {topics.status}",
        f"read {b}/lamps/+",
        f"read {b}/profiles/+",
        f"read {b}/presence/+",  # within each user's visibility (PRES-04)
        f"read {b}/users/%u/presence",
        # Below too (`.../requests/{service}/x`): such a request gets an error reply
        # rather than a silent drop by the broker.
        f"write {b}/users/%u/requests/#",
        f"read {b}/users/%u/inbox/#",
        f"read {b}/users/%u/favourites",
        f"read {b}/users/%u/callers",  # names from the user's own directory (DIR-06)
        f"read {b}/users/%u/journal",  # the counts of one's own journal (JOUR-02)
    ):
        out.append(f"pattern {line}")
    if tls:
        out.append(f"pattern write {b}/users/%u/secure/requests/#")
    out += ["", f"user {node_user(site.node)}", f"topic readwrite {b}/#"]
    for account in sorted(accounts, key=_name):
        if not account.can_sign_in:
            continue
        out += ["", f"user {account.name}"]
        if account.role is Role.INTEGRATOR:
            out.append(f"topic readwrite {b}/phones/#")  # phone_sim's physical-phone bridge
        if account.role in (Role.INTEGRATOR, Role.MONITOR):
            reads = readers_topics(topics)
        else:
            devices = own_devices(site, account)
            reads = [topics.device_state(d) for d in devices]
            reads += [topics.device_events(d) for d in devices]
        out += [f"topic read {t}" for t in reads]
    return "\n".join(out) + "\n"
