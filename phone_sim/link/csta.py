"""Phones whose CTI requests travel over the CSTA link (ECMA-285 BER over TCP).

Events and device states come from an ``inner`` link (an :class:`InProcessLink` in tests, or
an MQTT link): CSTA event reports carry no busy-lamp summaries, names or allowed services, so
the phone model keeps reading the documents of specs/mqtt.md. CTI services go through a
:class:`~cti.csta.client.CstaClient` (:meth:`CstaClient.request`, built on
:mod:`cti.csta.client.arguments`); a universalFailure comes back as our error name, so scenarios
expecting ``fails with noActiveCall`` read the same either way.

``offHook``, ``onHook`` and ``dial`` are a phone's hook and keypad, physical inputs and not
CTI; ``redialList`` is a feature of our node, not an ECMA-269 service. Those requests go to the
inner link.
"""

from __future__ import annotations

import contextlib

from cti.csta.client import CstaClient, CstaClientError, CstaRejected, RequestFailed
from cti.csta.client.arguments import is_csta
from phone_sim.link.base import Doc, EventsListener, Link, StateListener


class CstaLink:
    """Owns ``client``: :meth:`start` associates it, :meth:`close` releases it."""

    def __init__(self, inner: Link, client: CstaClient) -> None:
        self.inner = inner
        self.client = client
        self.node = inner.node
        self.seq = 0  # the newest log position the inner link delivered

    def listen(self, on_events: EventsListener, on_state: StateListener) -> None:
        def events(docs: list[Doc]) -> None:
            self.seq = max([self.seq, *(d["seq"] for d in docs)])
            on_events(docs)

        def state(doc: Doc) -> None:
            self.seq = max(self.seq, doc["seq"])
            on_state(doc)

        self.inner.listen(events, state)

    async def start(self) -> None:
        await self.client.associate()
        await self.inner.start()

    async def close(self) -> None:
        with contextlib.suppress(CstaClientError, OSError, TimeoutError):
            await self.client.release()
        await self.client.close()
        await self.inner.close()

    async def request(self, service: str, fields: Doc) -> Doc:
        if not is_csta(service):  # presence, voicemail, ...: the node's own contexts
            return await self.inner.request(service, fields)
        try:
            result = await self.client.request(service, fields)
        except RequestFailed as exc:
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        except CstaRejected as exc:  # our arguments are well-typed: a rejection is a bug
            return {"ok": False, "error": {"code": "generic", "message": str(exc)}}
        # The switch writes a service's events before its result and an in-process inner link
        # delivers them at commit, so everything the service caused has been seen: ``seq`` is
        # what the inner link showed so far (an MQTT inner link may lag; the simulator then
        # does not wait for the events).
        return {"ok": True, "result": result, "seq": self.seq}
