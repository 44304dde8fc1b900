"""Every shipped scenario (one or more per CALL-* requirement) passes against a real node:
through a real Mosquitto with the phones as MQTT clients, and in-process."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phone_sim import scenario
from tests.phone_sim.conftest import Office

SCENARIOS = sorted((Path(__file__).parents[2] / "phone_sim" / "scenarios").glob("*.yaml"))
REQUIREMENTS = Path(__file__).parents[2] / "specs" / "requirements.md"


def test_every_call_requirement_has_a_scenario() -> None:
    wanted = set(re.findall(r"^- (CALL-\d\d)", REQUIREMENTS.read_text(), re.MULTILINE))
    assert len(wanted) == 16, "specs/requirements.md lists CALL-01..16"
    covered = {r for path in SCENARIOS for r in scenario.load(path).requirements}
    assert wanted <= covered, f"no scenario for {sorted(wanted - covered)}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_scenario_over_mqtt(path: Path, mqtt_office: Office) -> None:
    site = mqtt_office
    await scenario.run(site.sim, scenario.load(path), advance=site.advance)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_scenario_in_process(path: Path, local_office: Office) -> None:
    site = local_office
    await scenario.run(site.sim, scenario.load(path), advance=site.advance)


async def test_scenarios_run_again_on_a_used_node(local_office: Office) -> None:
    """specs/phone-sim.md: scenarios prepare their devices, so they pass on a node that was
    used before: every shipped scenario twice over on one node, as ``phone-sim run
    phone_sim/scenarios/*.yaml`` does against a live server run after run (issue 18 item 9;
    CALL-02's redial lists are the history a node keeps)."""
    site = local_office
    for _ in range(2):
        for path in SCENARIOS:
            await scenario.run(site.sim, scenario.load(path), advance=site.advance)
