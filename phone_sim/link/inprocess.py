"""Phones in the same process as the engine: requests go through the same parser and reply
shaping as MQTT requests, events and states are the same documents, without a broker.

The link is a live follower of the node's log. Before a request's reply is returned it
catches up with the log, so a phone has heard the events of its own request (and of every
command before it) by the time it reads the reply: scenarios run in-process deterministically.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from cti.api import documents as payloads
from cti.api import execute as replies
from cti.api.requests import BadRequest, parse_action
from cti.app.engine import Engine
from cti.app.feed import LogReader
from cti.app.follower import LiveFollower
from cti.app.node import Committed
from cti.calls.views import device_view, touched_devices
from phone_sim.link.base import Doc, EventsListener, StateListener


class InProcessLink:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.node = engine.node.site.node
        self._on_events: EventsListener | None = None
        self._on_state: StateListener | None = None
        reader = LogReader(engine.node.feed, engine.node.store.sibling(readonly=True))
        self._follower = LiveFollower("phone-sim-link", reader, self._on_commit)

    def listen(self, on_events: EventsListener, on_state: StateListener) -> None:
        self._on_events, self._on_state = on_events, on_state

    async def start(self) -> None:
        self._follower.start()
        for device in sorted(self.engine.node.site.devices):
            self._publish_state(device)

    async def close(self) -> None:
        self._on_events = self._on_state = None
        await self._follower.stop()

    async def request(self, service: str, fields: Doc) -> Doc:
        try:
            action = parse_action(service, fields)
        except BadRequest as bad:
            return replies.error(bad.code, bad.message)
        reply = await replies.execute(self.engine, action)
        self._follower.catch_up()  # its events reach the phones before its reply
        return reply

    def _on_commit(self, batch: Sequence[Committed]) -> None:
        if self._on_events is None:
            return
        docs = [payloads.event_doc(c) for c in batch if not c.event.INTERNAL]
        if docs:
            self._on_events(docs)
        site = self.engine.node.site
        touched = touched_devices((c.event for c in batch), site) & site.devices.keys()
        for device in sorted(touched):
            self._publish_state(device)

    def _publish_state(self, device: str) -> None:
        if self._on_state is None:
            return
        node = self.engine.node
        view = device_view(node.site, node.state, device)
        body = payloads.device_state(node.site, view, node.device_seq(device), node.clock.now_ms())
        self._on_state(orjson.loads(body))
