"""`cti request`: one MQTT v5 request/response round trip against a running node."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

from cti.mqtt.client import MqttClient
from cti.mqtt.client import parse_url as parse_mqtt_url
from cti.mqtt.client import protocol as p


def parse_fields(fields: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"expected key=value, got {item!r}")
        value: Any = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif raw.isdigit() and not raw.startswith("0"):
            value = int(raw)
        out[key] = value
    return out


async def request(url: str, node: str, service: str, fields: list[str]) -> int:
    host, port = parse_mqtt_url(url)
    reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    me = f"cti-request-{uuid.uuid4().hex[:8]}"
    inbox = f"cti/{node}/replies/{me}"

    def on_message(message: p.Message) -> None:
        if not reply.done():
            reply.set_result(message.payload)

    client = MqttClient(host, port, me, on_message=on_message)
    await client.connect()
    await client.subscribe([(inbox, 1)])
    topic = f"cti/{node}/replay" if service == "replay" else f"cti/{node}/requests/{service}"
    client.publish(
        topic,
        json.dumps(parse_fields(fields)).encode(),
        props={p.RESPONSE_TOPIC: inbox, p.CORRELATION_DATA: b"1", p.MESSAGE_EXPIRY: 10},
    )
    try:
        body = await asyncio.wait_for(reply, 10)
    except TimeoutError:
        print("no reply within 10 s", file=sys.stderr)
        return 1
    finally:
        await client.disconnect()
    doc = json.loads(body)
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0 if doc.get("ok") else 1
