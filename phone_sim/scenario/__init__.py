"""Declarative phone scenarios (YAML or TOML): parse them, run them against a node."""

from phone_sim.scenario.parse import Scenario, ScenarioError, load, parse_step
from phone_sim.scenario.run import ScenarioFailed, run

__all__ = ["Scenario", "ScenarioError", "ScenarioFailed", "load", "parse_step", "run"]
