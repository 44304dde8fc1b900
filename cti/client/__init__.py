"""A typed asyncio client for UIs of a cti node (specs/client.md): sign in, send requests,
watch your devices' states and events, your own events (presence, profile, mailbox) and
everyone's busy lamps, with gaps after a lost connection filled from the node's log: every
event once, in ``seq`` order.

::

    from cti.client import CtiClient, DeviceEvent

    async with CtiClient("mqtt://127.0.0.1:1883", user="331", password="Bernd-2026!") as cti:
        await cti.watch("331")
        made = await cti.make_call("331", "332")
        async for update in cti.updates():
            if isinstance(update, DeviceEvent):
                print(update.seq, update.event)

Built on aiomqtt (MQTT 5). The node's own MQTT client (:mod:`cti.mqtt.client`) is for
publishing at high rates; UIs are better served by the well-known library.
"""

from cti.api.documents import DeviceStateDoc, LampDoc, StatusDoc
from cti.api.journal import JournalCountsDoc, JournalEntryDoc, JournalResult
from cti.client.client import CtiClient
from cti.client.errors import CtiError, NoReply, NotConnected, Refused, SignInRefused
from cti.client.updates import (
    CallRef,
    ChatMessage,
    ChatRead,
    Connected,
    DeviceEvent,
    DeviceState,
    Disconnected,
    JournalCounts,
    Lamp,
    Online,
    OwnEvent,
    Reset,
    Status,
    Update,
)

__all__ = [
    "CallRef",
    "ChatMessage",
    "ChatRead",
    "Connected",
    "CtiClient",
    "CtiError",
    "DeviceEvent",
    "DeviceState",
    "DeviceStateDoc",
    "Disconnected",
    "JournalCounts",
    "JournalCountsDoc",
    "JournalEntryDoc",
    "JournalResult",
    "Lamp",
    "LampDoc",
    "NoReply",
    "NotConnected",
    "Online",
    "OwnEvent",
    "Refused",
    "Reset",
    "SignInRefused",
    "Status",
    "StatusDoc",
    "Update",
]
