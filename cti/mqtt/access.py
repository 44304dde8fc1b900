"""The broker's side of authorization: the password file and ACL files Mosquitto checks,
rendered from the node's accounts (specs/security.md, "Topics: who reads and writes").

Pure: the same accounts and site always give the same text, so the files can be compared,
rewritten only when they change, and diffed by an operator.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from cti.accounts.access import controlled
from cti.accounts.model import Account, Role
from cti.mqtt.signin import qualified
from cti.mqtt.topics import Topics
from cti.site import Site

HEADER = "# Written by cti from the node's accounts; edits are overwritten (specs/security.md).\n"


def node_user(node: str) -> str:
    """The account the node itself signs in with (no site account may start with cti-)."""
    return f"cti-{node}"


def node_client_id(node: str, secret: str) -> str:
    """The node's MQTT client id: ``cti-{node}-`` and 16 hex digits of an HMAC of the node's
    name keyed by its broker password. Any signed-in account may connect with any client id,
    and the broker then ends the older connection of that id (session takeover): a guessable
    id (``cti-{node}``) let every account knock the node off the broker. Derived, not random,
    so every process of the node (a hot-standby pair shares the secret) has the same one and
    a new active node still ends a stale one's connection. Never logged."""
    digest = hmac.new(secret.encode(), f"mqtt client id of {node}".encode(), hashlib.sha256)
    return f"{node_user(node)}-{digest.hexdigest()[:16]}"


def sign_in_name(account: Account, node: str, *, shared: bool) -> str:
    """The broker user name of ``account``: qualified by the node on a shared broker."""
    return qualified(account.name, node) if shared else account.name


def password_file(
    accounts: Iterable[Account], node: str, node_hash: str, *, shared: bool = False
) -> str:
    """Mosquitto's ``user:$7$...`` lines: the node, then every account that can sign in."""
    lines = [f"{node_user(node)}:{node_hash}"]
    lines += [
        f"{sign_in_name(a, node, shared=shared)}:{a.broker_password}"
        for a in sorted(accounts, key=_name)
        if a.can_sign_in
    ]
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
        f"{b}/users/+/events",
    ]


def own_devices(site: Site, account: Account) -> list[str]:
    """The configured devices whose full state and events a user reads."""
    return sorted(d for d in controlled(site, account) if d in site.devices)


def everyones(topics: Topics, user: str, *, tls: bool) -> list[str]:
    """What every account may, ``user`` standing for its name in the topics."""
    b = topics.base
    lines = [
        f"read {topics.status}",
        f"read {b}/lamps/+",
        f"read {b}/profiles/+",
        f"read {b}/presence/+",  # within each user's visibility (PRES-04)
        f"read {b}/users/{user}/presence",
        # One's own events (presence, profile, mailbox): never on a device's topic, which a
        # MULAP group or a shared phone lets other accounts read (PRES-04, VM-02).
        f"read {b}/users/{user}/events",
        # Below too (`.../requests/{service}/x`): such a request gets an error reply
        # rather than a silent drop by the broker.
        f"write {b}/users/{user}/requests/#",
        f"read {b}/users/{user}/inbox/#",
        f"read {b}/users/{user}/favourites",
        f"read {b}/users/{user}/callers",  # names from the user's own directory (DIR-06)
        f"read {b}/users/{user}/journal",  # the counts of one's own journal (JOUR-02)
        f"read {b}/users/{user}/conferences",  # one's own conferences (CONF-04)
        f"read {b}/users/{user}/voicemail",  # one's own mailbox's counts (VM-02)
        f"read {b}/users/{user}/chat",  # one's own chat messages and read marks (IM-01)
        f"read {b}/online/+",  # who is signed in on any client (IM-01)
        f"write {b}/users/{user}/sessions/+",  # one's own clients' session markers
    ]
    if tls:
        lines.append(f"write {b}/users/{user}/secure/requests/#")
    return lines


def acl_file(site: Site, accounts: Iterable[Account], *, tls: bool, shared: bool = False) -> str:
    """The ACL of one listener; only the TLS listener's lets accounts write ``secure``.

    On a broker of its own the node's common rules are ``pattern`` lines (``%u``: the signed-in
    name). On a ``shared`` broker a pattern would hold for the other nodes' accounts too, so
    every account gets its own lines, under its qualified name, naming its node's topics only.
    """
    topics = Topics(site.node)
    b = topics.base
    out = [HEADER]
    if not shared:
        out.append("# Every account (%u is the signed-in name).")
        out += [f"pattern {line}" for line in everyones(topics, "%u", tls=tls)]
        out.append("")
    out += [f"user {node_user(site.node)}", f"topic readwrite {b}/#"]
    for account in sorted(accounts, key=_name):
        if not account.can_sign_in:
            continue
        out += ["", f"user {sign_in_name(account, site.node, shared=shared)}"]
        if shared:
            out += [f"topic {line}" for line in everyones(topics, account.name, tls=tls)]
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
