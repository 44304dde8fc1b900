"""Simulated phones, trunk parties, MULAP groups and mobility users that drive the engine.

The physical-device inputs they use (off-hook, on-hook, dial) are engine commands today
(``cti.calls.commands``); the phone models themselves follow.
"""
