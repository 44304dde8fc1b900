"""The topics every signed-in user reads: busy lamps (no numbers, sent only when they change)
and profiles (USER-03, re-rendered when an account or its profile changes, cleared when it
goes). CALL-10, CALL-11, USER-03."""

from __future__ import annotations

from cti.accounts.commands import SeedAccounts
from cti.app.config import load_config
from tests.mqtt.conftest import BASE, SEEDED, CtiClient, NodeFace

LAMP_KEYS = {"seq", "ts", "event", "device", "name", "kind", "summary", "dnd"}


async def test_lamps_show_the_summary_without_numbers_and_only_when_it_changes(
    ui: CtiClient, node_face: NodeFace
) -> None:
    for device in node_face.site.devices:  # every configured device has its lamp at connect
        await ui.wait_for(f"{BASE}/lamps/{device}")
    idle = ui.docs(f"{BASE}/lamps/331")[-1]
    assert set(idle) == LAMP_KEYS
    assert (idle["summary"], idle["dnd"], idle["name"]) == ("idle", False, "Bernd Vogel")

    mark = len(ui.messages)
    await ui.ok("makeCall", calling="330", called="331")
    ringing = await ui.wait_for(f"{BASE}/lamps/331", start=mark)
    assert set(ringing) == LAMP_KEYS  # no caller, no call: CALL-10
    assert (ringing["summary"], ringing["seq"]) == ("incoming-internal", SEEDED + 3)
    assert "330" not in str({k: v for k, v in ringing.items() if k != "ts"}.values())

    # Forwarding changes 332's full state but not its lamp: no lamp message for it.
    mark = len(ui.messages)
    fwd = await ui.ok(
        "setForwarding", device="332", forwardingType="forwardImmediate", on=True, destination="333"
    )
    await ui.wait_for(f"{BASE}/devices/332/state", lambda d: d["seq"] == fwd["seq"], start=mark)
    dnd = await ui.ok("setDoNotDisturb", device="332", on=True)
    lamp = await ui.wait_for(f"{BASE}/lamps/332", start=mark)
    assert (lamp["seq"], lamp["summary"], lamp["dnd"]) == (dnd["seq"], "dnd", True)
    assert [m.doc["seq"] for m in ui.messages[mark:] if m.topic == f"{BASE}/lamps/332"] == [
        dnd["seq"]
    ]


async def test_profiles_follow_the_accounts(ui: CtiClient, node_face: NodeFace) -> None:
    bernd = next(u for u in load_config().users if u.name == "331")
    engine = node_face.engine
    assert (await engine.execute(SeedAccounts(accounts=(bernd.seed(),)))).ok
    created = await ui.wait_for(f"{BASE}/profiles/331")
    assert (created["name"], created["displayName"], created["email"]) == (
        "331",
        "Bernd Vogel",
        None,
    )
    mark = len(ui.messages)
    await ui.ok("setProfile", name="331", email=" Bernd.Vogel@Example.COM")
    changed = await ui.wait_for(f"{BASE}/profiles/331", start=mark)
    assert changed["email"] == "Bernd.Vogel@example.com"
    assert "voicemailToEmail" not in changed  # the owner's setting, not for others
    await ui.ok("removeAccount", name="331")
    # An empty retained message clears the topic: late subscribers find no profile.
    await ui.wait_for_msg(lambda m: m.topic == f"{BASE}/profiles/331" and m.payload == b"")
    # Integrators (the tester) have no profile topic.
    assert ui.on(f"{BASE}/profiles/tester") == []
