"""The topic contract (specs/mqtt.md). Base ``cti/{node}/``."""

from __future__ import annotations

import attrs


@attrs.frozen
class Topics:
    node: str

    @property
    def base(self) -> str:
        return f"cti/{self.node}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def events(self) -> str:
        """Node-wide, one message per commit batch: for recorders and high-rate consumers."""
        return f"{self.base}/events"

    def device_state(self, device: str) -> str:
        return f"{self.base}/devices/{device}/state"

    def device_events(self, device: str) -> str:
        return f"{self.base}/devices/{device}/events"

    def call_events(self, call: int) -> str:
        return f"{self.base}/calls/{call}/events"

    @property
    def device_states(self) -> str:
        return f"{self.base}/devices/+/state"

    def device_of_state(self, topic: str) -> str | None:
        prefix, suffix = f"{self.base}/devices/", "/state"
        if topic.startswith(prefix) and topic.endswith(suffix):
            return topic[len(prefix) : -len(suffix)]
        return None

    @property
    def requests(self) -> str:
        return f"{self.base}/requests/+"

    def request(self, service: str) -> str:
        return f"{self.base}/requests/{service}"

    @property
    def replay(self) -> str:
        return f"{self.base}/replay"

    def service_of(self, topic: str) -> str | None:
        prefix = f"{self.base}/requests/"
        return topic[len(prefix) :] if topic.startswith(prefix) else None
