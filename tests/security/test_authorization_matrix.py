"""The authorization matrix as a property (specs/security.md "Accounts", "Topics", USER-01..05).

What the property exercises: for a random signed-in account (every demo account of the
example office, the tests' integrator, an account that must still change its password, and
for the in-process run an account that does not exist), a random service from a
representative set (call control on devices and on calls, queries, the users' own settings,
profiles, favourites, the administration of accounts, replay over MQTT) and random targets
(the site's phones, the MULAP group, the voicemail, a mobile, an unknown number; the calls
that exist after a random set of calls was placed, and one that does not), the node's reply
must agree with an ORACLE written here from the rules of specs/security.md alone (roles, own
devices = the account's numbers + their MULAP groups' phones + their mobile as the site file
lists them, licences, passwordChangeRequired) and read from the site file, not from
cti.accounts.access:

- the oracle says "authorized": the reply is ok, or a refusal that is not about authorization
  (the call model's invalidCallID, say);
- the oracle names the refusals the rules allow (several when several rules are broken): the
  reply is refused with one of them.

It runs twice: many examples in-process against a fresh Node and Engine each
(cti.api.execute.execute, the path every face takes), and a few dozen through the MQTT request
topics of a node started as ``cti serve --broker embedded`` (the broker's ACLs, the sender taken
from the topic). Both count what they reached and assert that every role and both outcomes were
reached a minimum number of times, so neither can pass vacuously.
"""

from __future__ import annotations

import asyncio
import functools
import json
import tomllib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from cti.accounts.commands import AccountSeed, SeedAccounts
from cti.accounts.model import Role
from cti.api import passwords as api_passwords
from cti.api.execute import execute
from cti.api.requests import BadRequest, parse_action
from cti.app.bootstrap import Running, ServeOptions, start
from cti.app.clock import SystemClock
from cti.app.config import load_config
from cti.app.engine import Engine
from cti.app.node import Accepted, Node
from cti.calls.commands import AnswerCall, MakeCall
from cti.mqtt.broker import free_port, mosquitto_binary
from cti.store import MemoryStore
from tests.mqtt.conftest import TESTER, CtiClient
from tests.mqtt.conftest import tester_seed as integrator_seed
from tests.security.conftest import EXAMPLE, PASSWORDS, site_file

AUTH_CODES = frozenset({"notYourDevice", "notPermitted", "notLicensed", "passwordChangeRequired"})
MUST_CHANGE = "334"  # an account an administrator made: must change its password first
NOBODY = "nobody"  # no such account (in-process only: the broker would not let it in)


# -- the oracle's view of the office: the site file itself -----------------------------------
@attrs.frozen
class Acct:
    role: str
    devices: tuple[str, ...]
    licences: frozenset[str]
    must_change: bool


def _accounts() -> dict[str, Acct]:
    raw = tomllib.loads(EXAMPLE.read_text())
    out = {}
    for u in raw["users"]:
        role = u.get("role", "user")
        people = role in ("user", "admin")
        devices = tuple(u.get("devices", [u["name"]] if people else []))
        licences = frozenset(u.get("licences", []))
        out[u["name"]] = Acct(role, devices, licences, u.get("must_change", True))
    out[TESTER] = Acct("integrator", (), frozenset(), False)
    out[MUST_CHANGE] = Acct("user", (MUST_CHANGE,), frozenset(), True)
    return out


SITE = tomllib.loads(EXAMPLE.read_text())
ACCOUNTS = _accounts()
MEMBERS = {m["number"]: frozenset(m["members"]) for m in SITE["mulap"]}
MOBILES = {d["number"]: d["mobile"] for d in SITE["devices"] if "mobile" in d}
PHONES = [d["number"] for d in SITE["devices"]]
TARGETS = [*PHONES, *MEMBERS, SITE["voicemail"], *MOBILES.values(), "999"]
NAMES = [*ACCOUNTS, "399"]


def own(acct: Acct) -> frozenset[str]:
    """A user's own devices (specs/security.md): their numbers, their MULAP groups' phones,
    their mobile."""
    out: set[str] = set()
    for number in acct.devices:
        out |= {number} | MEMBERS.get(number, frozenset())
        if number in MOBILES:
            out.add(MOBILES[number])
    return frozenset(out)


def by_role(*, nobody: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name in ACCOUNTS:
        out.setdefault(role_of(name), []).append(name)
    if nobody:
        out["none"] = [NOBODY]
    return out


def draw_user(draw: Callable[..., Any], role: str | None = None, *, nobody: bool = False) -> str:
    """An account of ``role``, or of a role drawn first (so that each role is reached about
    as often as the others, whatever the number of its accounts)."""
    accounts = by_role(nobody=nobody)
    if role is None:
        role = draw(st.sampled_from(sorted(accounts)), label="role")
    user: str = draw(st.sampled_from(accounts[role]), label="user")
    return user


def role_of(user: str) -> str:
    acct = ACCOUNTS.get(user)
    if acct is None:
        return "none"
    return "mustChange" if acct.must_change else acct.role


# -- the services: what each is, by the spec --------------------------------------------------
@attrs.frozen
class Service:
    name: str
    query: bool = False  # reads (monitors may)
    admin: bool = False  # administrators' (and integrators'; monitors' if a query)
    acts: tuple[str, ...] = ()  # fields naming a device the sender acts as
    on_call: bool = False  # ``call`` names a call the sender must be in
    licence: str | None = None
    own_profile: bool = False  # the sender's own, or anyone's for administrators
    own_only: bool = False  # the sender's own (``user``), no one else's (favourites, DIR-05)


SERVICES = {
    s.name: s
    for s in (
        Service("makeCall", acts=("calling",)),
        Service("answerCall", acts=("device",)),
        Service("clearConnection", acts=("device",)),
        Service("holdCall", acts=("device",)),
        Service("clearCall", on_call=True),
        Service("directedPickupCall", acts=("device",)),  # picking another's call is pickup
        Service("setDoNotDisturb", acts=("device",)),
        Service("setForwarding", acts=("device",)),
        Service("setAssignedPhone", acts=("user",)),
        Service("setDialMethod", acts=("user",), licence="mobility"),
        Service("setProfile", own_profile=True),
        Service("updateAccount", admin=True),
        Service("removeAccount", admin=True),
        Service("setPassword", admin=True),
        Service("forgetDevices", admin=True),
        Service("snapshotDevice", query=True, acts=("device",)),
        Service("snapshotCall", query=True, on_call=True),
        Service("getDoNotDisturb", query=True, acts=("device",)),
        Service("redialList", query=True, acts=("device",)),
        Service("getProfile", query=True),
        Service("addFavourite", own_only=True),
        Service("getFavourites", query=True, own_only=True),
        Service("listAccounts", query=True, admin=True),
        Service("replay", query=True),  # MQTT only
    )
}


def draw_service(draw: Callable[..., Any], *, over_mqtt: bool) -> str:
    """A service: reading or changing first (as likely), then one of those; replay only over
    MQTT (it is the MQTT face's)."""
    reads = draw(st.booleans(), label="reads")
    names = [
        name for name, s in SERVICES.items() if s.query == reads and (over_mqtt or name != "replay")
    ]
    service: str = draw(st.sampled_from(names), label="service")
    return service


def oracle(
    user: str, service: str, fields: Mapping[str, Any], parties: Mapping[int, frozenset[str]]
) -> frozenset[str]:
    """The refusals specs/security.md allows for this request; empty: it is authorized."""
    acct = ACCOUNTS.get(user)
    if acct is None:
        return frozenset({"notPermitted"})
    if acct.must_change:  # USER-01: nothing but changePassword (not among these services)
        return frozenset({"passwordChangeRequired"})
    s = SERVICES[service]
    if acct.role == "monitor":  # reads every topic; queries only
        return frozenset() if s.query else frozenset({"notPermitted"})
    if acct.role == "integrator":  # acts as every device
        return frozenset()
    if s.own_profile and fields.get("name", user) == user:
        return frozenset()
    if s.own_only:  # not even administrators: favourites are no account administration
        return frozenset() if fields["user"] == user else frozenset({"notPermitted"})
    if s.admin or s.own_profile:
        return frozenset() if acct.role == "admin" else frozenset({"notPermitted"})
    refusals = set()
    if s.licence is not None and s.licence not in acct.licences:
        refusals.add("notLicensed")
    mine = own(acct)
    if any(fields[f] not in mine for f in s.acts if f in fields):
        refusals.add("notYourDevice")
    if s.on_call and not (parties.get(fields["call"], frozenset()) & mine):
        refusals.add("notYourDevice")
    return frozenset(refusals)


def fields_of(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    service: str,
    user: str,
    calls: list[int],
    *,
    over_mqtt: bool,
) -> dict[str, Any]:
    """Random fields of a request of ``service`` by ``user``; devices are more often the
    sender's own than anyone's (else a user's requests would nearly always be refused)."""
    acct = ACCOUNTS.get(user)
    mine = sorted(own(acct)) if acct is not None else []
    device = st.sampled_from(TARGETS)
    if mine:
        device = st.one_of(device, st.sampled_from(mine), st.sampled_from(mine))
    call = st.sampled_from([*calls, 9999])
    name = st.sampled_from(NAMES)
    if over_mqtt:  # changes the test cannot afford: an account's password, an account
        own_name = [user] if acct is not None and acct.role not in ("admin", "integrator") else []
        name_to_reset = st.sampled_from(["399", *own_name])
        name_to_remove = st.just("399")
    else:
        name_to_reset = name_to_remove = name
    makers: dict[str, Callable[[], dict[str, Any]]] = {
        "makeCall": lambda: {"calling": draw(device), "called": draw(device)},
        "answerCall": lambda: {"call": draw(call), "device": draw(device)},
        "clearConnection": lambda: {"call": draw(call), "device": draw(device)},
        "holdCall": lambda: {"call": draw(call), "device": draw(device)},
        "clearCall": lambda: {"call": draw(call)},
        "directedPickupCall": lambda: {"picked": draw(device), "device": draw(device)},
        "setDoNotDisturb": lambda: {"device": draw(device), "on": draw(st.booleans())},
        "setForwarding": lambda: {
            "device": draw(device),
            "forwardingType": "forwardImmediate",
            "on": draw(st.booleans()),
            "destination": draw(device),
        },
        "setAssignedPhone": lambda: {"user": draw(device), "phone": draw(device)},
        "setDialMethod": lambda: {
            "user": draw(device),
            "dialMethod": draw(st.sampled_from(["cti_associated", "callback_preferred"])),
        },
        "setProfile": lambda: {
            **({} if draw(st.booleans()) else {"name": draw(name)}),
            "presenceVisibility": draw(st.sampled_from(["internalOnly", "notVisible"])),
        },
        "updateAccount": lambda: {"name": draw(name), "displayName": "Renamed"},
        "removeAccount": lambda: {"name": draw(name_to_remove)},
        "setPassword": lambda: {"name": draw(name_to_reset), "password": "Reset-2026!"},
        "snapshotDevice": lambda: {"device": draw(device)},
        "snapshotCall": lambda: {"call": draw(call)},
        "getDoNotDisturb": lambda: {"device": draw(device)},
        "redialList": lambda: {"device": draw(device)},
        "getProfile": lambda: {"name": draw(name)},
        "addFavourite": lambda: {
            "user": draw(st.one_of(name, st.just(user))),
            "groupName": "Team",
            "colleague": "330",
        },
        "getFavourites": lambda: {"user": draw(st.one_of(name, st.just(user)))},
        "forgetDevices": lambda: {"devices": [draw(device)]},
        "listAccounts": lambda: {},
        "replay": lambda: {"fromSeq": draw(st.integers(1, 50)), "limit": 20},
    }
    return makers[service]()


@attrs.define
class Tally:
    """What the property reached: replies by role and outcome, refusals by code."""

    outcomes: Counter[tuple[str, str]] = attrs.field(factory=Counter)
    codes: Counter[str] = attrs.field(factory=Counter)

    def check(
        self,
        user: str,
        service: str,
        fields: Mapping[str, Any],
        parties: Mapping[int, frozenset[str]],
        reply: Mapping[str, Any],
    ) -> None:
        """The reply agrees with the oracle; counted."""
        expected = oracle(user, service, fields, parties)
        where = f"{user} {service} {dict(fields)} (calls {dict(parties)}): {dict(reply)}"
        if reply["ok"] is True:
            assert not expected, f"accepted, the spec refuses {set(expected)}: {where}"
            self.outcomes[role_of(user), "accepted"] += 1
            return
        got = reply["error"]["code"]
        if expected:
            assert got in expected, f"refused {got}, the spec says {set(expected)}: {where}"
            self.outcomes[role_of(user), "refused"] += 1
            self.codes[got] += 1
        else:
            assert got not in AUTH_CODES, f"refused {got}, the spec authorizes it: {where}"
            self.outcomes[role_of(user), "authorized, refused by the call model"] += 1

    def assert_reached(
        self, strata: Iterable[Stratum], minimum: int, minimum_ok: int, each_code: int
    ) -> None:
        """Every stratum's outcome was reached ``minimum`` times (refused; or authorized:
        accepted or refused by the call model, not for who sent it), and of the authorized
        ``minimum_ok`` were accepted (an ok reply); every refusal the spec names was given
        ``each_code`` times."""
        for role, wanted in strata:
            ok = self.outcomes[role, "accepted"]
            got = (
                self.outcomes[role, "refused"]
                if wanted == REFUSED
                else ok + self.outcomes[role, "authorized, refused by the call model"]
            )
            assert got >= minimum, f"{role} {wanted}: {got} < {minimum}: {self.outcomes}"
            if wanted == AUTHORIZED:
                assert ok >= minimum_ok, f"{role} accepted: {ok} < {minimum_ok}: {self.outcomes}"
        for code in sorted(AUTH_CODES):
            assert self.codes[code] >= each_code, f"{code}: {self.codes}"


# (role, what the oracle is to say): every role with each outcome the spec makes possible.
Stratum = tuple[str, str]
REFUSED, AUTHORIZED = "refused", "authorized"
STRATA: list[Stratum] = [
    ("user", AUTHORIZED),
    ("user", REFUSED),
    ("admin", AUTHORIZED),
    ("admin", REFUSED),
    ("monitor", AUTHORIZED),
    ("monitor", REFUSED),
    ("integrator", AUTHORIZED),  # the spec refuses an integrator nothing
    ("mustChange", REFUSED),  # nothing of these services before the password is changed
]


def draw_request(
    draw: Callable[..., Any],
    stratum: Stratum,
    parties: Mapping[int, frozenset[str]],
    *,
    over_mqtt: bool,
) -> tuple[str, str, dict[str, Any]]:
    """A request (user, service, fields) of the stratum's role that the oracle answers as
    the stratum wants: drawn again until it does (the oracle steers what is generated, the
    node's reply is then judged by it)."""
    role, wanted = stratum
    for _ in range(100):
        user = draw_user(draw, role, nobody=role == "none")
        service = draw_service(draw, over_mqtt=over_mqtt)
        fields = fields_of(draw, service, user, sorted(parties), over_mqtt=over_mqtt)
        if bool(oracle(user, service, fields, parties)) == (wanted == REFUSED):
            note(f"{user} {service} {fields} (calls {dict(parties)})")
            return user, service, fields
    reject()


CALL = st.tuples(
    st.sampled_from(PHONES), st.sampled_from([*PHONES, SITE["voicemail"]]), st.booleans()
)  # (calling, called, answered)


def run_property(
    runner: asyncio.Runner,
    example: Callable[[st.DataObject, list[tuple[str, str, bool]], Stratum], Awaitable[None]],
    strata: Iterable[Stratum],
    examples: int,
    calls: int,
) -> None:
    """``examples`` examples of each stratum, each with up to ``calls`` calls placed first;
    deterministic (derandomized)."""

    def of(stratum: Stratum) -> Callable[[], None]:
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(data=st.data(), scenario=st.lists(CALL, max_size=calls))
        def prop(data: st.DataObject, scenario: list[tuple[str, str, bool]]) -> None:
            runner.run(example(data, scenario, stratum))

        return prop  # type: ignore[no-any-return]

    for stratum in strata:
        of(stratum)()


@pytest.fixture
def hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The services that take a password check and hash it before the node decides who may
    send them, and argon2id costs ~0.3 s here: hash each password once (which hash an account
    gets is no matter to who may send what)."""
    monkeypatch.setattr(api_passwords, "_hashes", functools.cache(api_passwords._hashes))


# -- in-process: a fresh Node and Engine per example ------------------------------------------
@functools.cache
def seeds() -> tuple[AccountSeed, ...]:
    """The example office's accounts, the tester and an account that must change its
    password; all with the tester's password hashes (hashed once: which hash an account has
    is no matter to who may send what, and argon2id costs ~0.3 s a password here)."""
    tester = integrator_seed()
    hashes = {"password": tester.password, "broker_password": tester.broker_password}
    users = load_config(None).users
    demo = tuple(attrs.evolve(u.seed_without_password(), **hashes) for u in users)
    fresh = attrs.evolve(
        tester, name=MUST_CHANGE, role=Role.USER, devices=(MUST_CHANGE,), must_change=True
    )
    return (*demo, tester, fresh)


async def in_process_example(
    data: st.DataObject, scenario: list[tuple[str, str, bool]], stratum: Stratum, tally: Tally
) -> None:
    node = Node(load_config(None).site, MemoryStore(), SystemClock())
    assert node.execute(SeedAccounts(accounts=seeds())).ok
    for calling, called, answer in scenario:  # placed by the node itself (no principal)
        made = node.execute(MakeCall(calling=calling, called=called))
        if isinstance(made, Accepted) and answer:
            node.execute(AnswerCall(call=int(made.result["call"]), device=called))
    engine = Engine(node)
    await engine.start()
    try:
        parties = {}
        for c in sorted(node.state.calls.calls.keys()):
            snap = await execute(engine, parse_action("snapshotCall", {"call": c}), TESTER)
            parties[c] = frozenset(p["device"] for p in snap["result"])
        user, service, fields = draw_request(data.draw, stratum, parties, over_mqtt=False)
        try:
            action = parse_action(service, fields)
        except BadRequest as bad:  # never: the strategies make well-formed requests
            raise AssertionError(f"{service} {fields}: {bad.message}") from None
        reply = await execute(engine, action, user)
        tally.check(user, service, fields, parties, reply)
    finally:
        await engine.stop()


@pytest.mark.usefixtures("hashed_once")
def test_authorization_matrix_in_process() -> None:
    """40 examples of each stratum (and of a sender without an account), each on a fresh
    node with up to three calls placed first."""
    tally = Tally()
    strata = [*STRATA, ("none", REFUSED)]
    with asyncio.Runner() as runner:

        def example(
            data: st.DataObject, scenario: list[tuple[str, str, bool]], stratum: Stratum
        ) -> Awaitable[None]:
            return in_process_example(data, scenario, stratum, tally)

        run_property(runner, example, strata, examples=40, calls=3)
    print(tally)
    tally.assert_reached(strata, minimum=40, minimum_ok=10, each_code=3)


# -- through MQTT: the broker's ACLs, the sender from the topic ---------------------------------
async def _mqtt_node(directory: Path) -> tuple[Running, dict[str, CtiClient]]:
    """``cti serve --broker embedded`` of the example office with the tester, 334 created by
    the administrator (must change its password), and a client of every account."""
    running = await start(
        ServeOptions(
            site=site_file(directory),
            data_dir=directory / "data",
            broker="embedded",
            broker_port=free_port(),
            tls_port=0,
            csta_port=0,
        )
    )
    assert running.broker is not None
    port = running.broker.port
    clients: dict[str, CtiClient] = {}
    try:
        admin = CtiClient("127.0.0.1", port, filters=[], user="330", password=PASSWORDS["330"])
        async with admin:
            await admin.ok("createAccount", name=MUST_CHANGE, password="Start-2026!")
        passwords = {**PASSWORDS, MUST_CHANGE: "Start-2026!"}
        for user in ACCOUNTS:
            client = CtiClient("127.0.0.1", port, filters=[], user=user, password=passwords[user])
            await client.__aenter__()
            clients[user] = client
    except BaseException:
        await _stop(running, clients)
        raise
    return running, clients


async def _stop(running: Running, clients: dict[str, CtiClient]) -> None:
    for client in clients.values():
        await client.__aexit__(None, None, None)
    await running.stop()


async def mqtt_example(
    data: st.DataObject,
    scenario: list[tuple[str, str, bool]],
    stratum: Stratum,
    running: Running,
    clients: dict[str, CtiClient],
    tally: Tally,
) -> None:
    tester = clients[TESTER]
    # A fresh scenario: no call left from the last example, then the drawn calls.
    for c in sorted(running.node.state.calls.calls.keys()):
        await tester.ok("clearCall", call=c)
    for calling, called, answer in scenario:
        made = await tester.request("makeCall", calling=calling, called=called)
        if made["ok"] and answer:
            await tester.request("answerCall", call=made["result"]["call"], device=called)
    parties = {}
    for c in sorted(running.node.state.calls.calls.keys()):
        snap = await tester.ok("snapshotCall", call=c)
        parties[c] = frozenset(p["device"] for p in snap["result"])
    user, service, fields = draw_request(data.draw, stratum, parties, over_mqtt=True)
    client = clients[user]
    reply = await client.raw_request(client.topic(service), json.dumps(fields).encode())
    tally.check(user, service, fields, parties, reply)


@pytest.mark.usefixtures("hashed_once")
def test_authorization_matrix_over_mqtt(tmp_path: Path) -> None:
    """5 examples of each stratum through the request topics of a node with the broker's
    ACLs (40 in all), each with up to two calls placed first."""
    assert mosquitto_binary() is not None, "mosquitto is not installed (apt-get install mosquitto)"
    tally = Tally()
    with asyncio.Runner() as runner:
        running, clients = runner.run(_mqtt_node(tmp_path))
        try:

            def example(
                data: st.DataObject, scenario: list[tuple[str, str, bool]], stratum: Stratum
            ) -> Awaitable[None]:
                return mqtt_example(data, scenario, stratum, running, clients, tally)

            run_property(runner, example, STRATA, examples=6, calls=2)
        finally:
            runner.run(_stop(running, clients))
    print(tally)
    tally.assert_reached(STRATA, minimum=6, minimum_ok=1, each_code=1)
