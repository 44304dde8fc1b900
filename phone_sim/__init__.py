"""Simulated phones, trunk parties, MULAP groups and mobility users that drive a node.

Phones are built only from the documents the node publishes (``model/``), reach it through a
link (``link/``: in-process, MQTT or CSTA) and are scripted by scenarios (``scenario/``), loaded
(``load``), played by hand (``console``) or exposed as MQTT devices (``physical``). See
specs/phone-sim.md.
"""
