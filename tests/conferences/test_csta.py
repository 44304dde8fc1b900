"""What a CSTA application monitoring the dial-in device (391) sees (specs/conferences.md):
each participant's call as a two-party call with 391, and never a keyed PIN."""

from __future__ import annotations

from cti.accounts.commands import SeedAccounts
from cti.conferences import commands as k
from cti.conferences import pins
from cti.csta.client import CstaClient
from cti.csta.ids import connection, device_id
from tests.csta.conftest import Link, app, link
from tests.presence.helpers import seeds

__all__ = ["app", "link"]  # the CSTA link's fixtures


async def reports(app: CstaClient) -> list[tuple[str, str]]:
    """Every report so far as (event, cause); an answered systemStatus is the fence."""
    await app.invoke("systemStatus", {"systemStatus": "normal"})
    got = []
    while not app.events.empty():
        report = app.events.get_nowait()
        got.append((report.name, str(report.value.get("cause", ""))))
    return got


async def test_a_monitor_of_the_dial_in_sees_two_party_calls_and_no_pin(
    link: Link, app: CstaClient
) -> None:
    for command in (
        SeedAccounts(accounts=seeds()),
        k.CreateConference(user="330", name="Jour fixe"),
        k.AddParticipant(user="330", conference=1, member="331"),
    ):
        assert (await link.engine.execute(command)).ok
    await app.invoke("monitorStart", {"monitorObject": ("deviceObject", device_id("391"))})
    dial = {"callingDevice": device_id("331"), "calledDirectoryNumber": device_id("391")}
    await app.invoke("makeCall", dial)
    conf = link.node.state.conferences.conference(1)
    assert conf is not None
    bernd = conf.participant(2)
    assert bernd is not None
    plan = link.node.site.conferences
    assert plan is not None
    pin = pins.pin(plan.pin_key, 1, 2, bernd.pin_round)  # the node's key (the process's)
    keyed = {"connectionToSendDigits": connection(1, "331"), "charactersToSend": pin + "#"}
    assert await app.invoke("generateDigits", keyed) == ("noData", None)
    await app.invoke("clearConnection", {"connectionToBeCleared": connection(1, "331")})
    assert await reports(app) == [
        ("delivered", "newCall"),
        ("established", "newCall"),
        ("connectionCleared", "normalClearing"),
        ("callCleared", "normalClearing"),
    ]
    kinds = [x.event.KIND for x in link.committed]
    assert kinds[-10:] == [  # the PIN is in none of them: call control records no digits
        "serviceInitiated",
        "originated",
        "delivered",
        "established",
        "dialInStarted",
        "participantJoined",
        "aloneTimeoutSet",
        "connectionCleared",
        "callCleared",
        "participantLeft",
    ]
    assert not any(pin in str(x.event) for x in link.committed)
