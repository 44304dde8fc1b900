"""`cti request`: one request/response round trip against a running node, signed in: MQTT 5
(Response Topic), or 3.1.1 (``reply_to`` in the payload) when the broker has only that."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import sys
import uuid
from collections.abc import Callable
from typing import Any

from cti.mqtt.client import (
    ConnectionLost,
    ConnectionRefused,
    Endpoint,
    MqttClient,
    SubscriptionRefused,
    endpoint,
)
from cti.mqtt.client import protocol as p
from cti.mqtt.signin import account_of
from cti.mqtt.topics import Topics

TIMEOUT = 10.0


class NoReply(Exception):
    """The broker took the request but no reply came (is the node running?)."""


def parse_fields(fields: list[str]) -> dict[str, Any]:
    """``key=value`` (a number or true/false typed, else a string) and ``key:=JSON`` (a list
    or an object, ``groups:=[2,1]``); ValueError with one line for people."""
    out: dict[str, Any] = {}
    for item in fields:
        key, sep, raw = item.partition("=")
        if not sep or not key.rstrip(":"):
            raise ValueError(f"expected key=value or key:=JSON, got {item!r}")
        value: Any = raw
        if key.endswith(":"):
            key = key[:-1]
            try:
                value = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{key}:= is not JSON: {exc.msg} (column {exc.colno} of {raw!r})"
                ) from None
        elif raw in ("true", "false"):
            value = raw == "true"
        elif raw.isdigit() and not raw.startswith("0"):
            value = int(raw)
        out[key] = value
    return out


async def connected(
    broker: Endpoint,
    client_id: str,
    on_message: Callable[[p.Message], None],
    subscriptions: list[tuple[str, int]],
) -> MqttClient:
    """A connection to the first member of the broker cluster that takes one and grants
    ``subscriptions`` (nothing has been published yet: trying the next cannot repeat a
    request). A NATS member refuses a subscription while it elects its JetStream leaders;
    a refusal of the subscription is raised rather than another member's failure (the broker
    answered: it is the more telling)."""
    failed: OSError | TimeoutError | None = None
    refused: SubscriptionRefused | None = None
    for index in range(len(broker.members)):
        client = broker.member(index).client(client_id, on_message=on_message)
        try:
            await client.connect()
        except ConnectionRefused as exc:
            if exc.credentials:  # about who we are: another member would say the same
                raise
            failed = exc  # busy, unavailable: another member may take us
            continue
        except (OSError, TimeoutError) as exc:
            failed = exc
            continue
        except p.ProtocolError as exc:  # something else listens there: try the next
            failed = ConnectionError(f"no MQTT broker answered: {exc}")
            continue
        try:
            # Refused, we would be deaf to the reply: say so now, not after the timeout.
            await client.subscribe(subscriptions, required=True)
            return client
        except SubscriptionRefused as exc:
            refused = exc
        except (OSError, TimeoutError) as exc:
            failed = exc
        except p.ProtocolError as exc:  # a SUBACK that is not MQTT: try the next
            failed = ConnectionError(f"the broker's answer was not MQTT: {exc}")
        except BaseException:
            await client.disconnect()
            raise
        await client.disconnect()
    if refused is not None:
        raise refused
    assert failed is not None
    raise failed


async def call(broker: Endpoint, node: str, service: str, fields: dict[str, Any]) -> Any:
    """Send one request as ``broker.username``, return the decoded reply. Over TLS it goes to
    the secure request topic (changePassword needs it, USER-02). Raises ConnectionRefused,
    SubscriptionRefused (the broker would not let us read the reply: check it before
    OSError, of which it is one), OSError/TimeoutError (no broker) or NoReply."""
    assert broker.username is not None, "requests are signed: an account is needed"
    topics = Topics(node)
    account = account_of(broker.username)  # `331@branch` on a shared broker signs as 331
    reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    me = f"cti-request-{uuid.uuid4().hex[:8]}"
    inbox = f"{topics.inbox(account)}/{me}"

    def on_message(message: p.Message) -> None:
        if not reply.done():
            reply.set_result(message.payload)

    client = await connected(broker, me, on_message, [(inbox, 1)])
    try:
        topic = topics.request(account, service, secure=broker.tls is not None)
        if client.version == 5:
            props = {p.RESPONSE_TOPIC: inbox, p.CORRELATION_DATA: b"1", p.MESSAGE_EXPIRY: 10}
            client.publish(topic, json.dumps(fields).encode(), props=props)
        else:  # MQTT 3.1.1 has no properties: the reply address travels in the payload
            client.publish(topic, json.dumps({**fields, "reply_to": inbox}).encode())
        closed = client.closed
        assert closed is not None  # connected
        # An MQTT 5 broker that refuses the publish (an ACL: a wrong --node, say) ends the
        # connection at once: say so then, not after the whole timeout.
        waits: list[asyncio.Future[Any]] = [reply, closed]
        await asyncio.wait(waits, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if not reply.done():
            if closed.done():
                why = closed.exception() if not closed.cancelled() else None
                if isinstance(why, ConnectionLost) and why.refused is not None:
                    # A PUBACK refused it: the ACL, only the node's own topics are open.
                    raise NoReply(
                        f"the broker refused the request to {topic}: is node {node} right?"
                    )
                raise NoReply(f"the broker closed the connection before the reply: {why}")
            raise NoReply(f"no reply within {TIMEOUT:.0f} s: is node {node} running?")
        body = reply.result()
    finally:
        await client.disconnect()
    return json.loads(body)


def refused(exc: ConnectionRefused, user: str | None, url: str) -> str:
    """A CONNACK refusal in one line, told by its reason code: of the account signing in
    (bad user name or password, not authorised; MQTT 5 0x86/0x87, 3.1.1 4/5), or of the
    connection (the broker busy, unavailable, ...)."""
    if exc.credentials:
        return f"the broker refused {user}: {exc}"
    return f"the broker at {url} would not take the connection: {exc}"


def subscription_refused(exc: SubscriptionRefused, node: str) -> str:
    """A SUBACK's refusal of the reply topic in one line: the broker answered, so never "no
    broker"; its ACL (NATS permissions) lets the account read its replies on its node only."""
    topic = exc.topics[0]
    return f"the broker refused the subscription to the reply topic {topic}: is node {node} right?"


#: What `call` raises when the node cannot be asked (OSError: no broker, or lost).
CALL_FAILURES = (ConnectionRefused, OSError, TimeoutError, NoReply)


def exit_code(exc: BaseException) -> int:
    """The exit code the tools (`cti request`, `cti users`, `cti devices`, `phone-sim`)
    share for a failure to ask the node: 1 the broker answered but refused (the subscription,
    the request's publish) or no reply came; 3 no broker, the connection refused or lost.
    (2, a usage error, is each tool's own.)"""
    if isinstance(exc, ConnectionRefused):  # a ConnectionError: before the others
        return 3
    if isinstance(exc, (SubscriptionRefused, NoReply)):  # the broker answered
        return 1
    if isinstance(exc, ConnectionLost) and exc.refused is not None:
        return 1  # a PUBACK refused the request (the ACL) and the broker ended the connection
    return 3


def in_words(exc: BaseException) -> str:
    """Why a connection failed, for a person: ``Connection refused``, not asyncio's
    ``[Errno 111] Connect call failed ('127.0.0.1', 1)``; an untrusted certificate with what
    to do about it."""
    cause = exc.__cause__
    if isinstance(cause, ssl.SSLCertVerificationError):
        exc = cause
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or "not verified"
        return f"its certificate is not trusted ({why}): give its CA with --ca-file"
    if isinstance(exc, ssl.SSLError):  # its errno is OpenSSL's, not the system's
        why = exc.reason or str(exc)
        if why in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"):
            return f"the TLS handshake failed ({why}): is that port a TLS one (mqtts://)?"
        return f"the TLS handshake failed ({why})"
    if isinstance(exc, socket.gaierror):  # a name that does not resolve: the resolver's words
        return f"{exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.errno is not None and not isinstance(exc, TimeoutError):
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def failure(
    exc: BaseException, user: str | None, url: str, node: str, unreachable: str
) -> tuple[str, int]:
    """One of CALL_FAILURES as one line and its :func:`exit_code`. ``unreachable`` says
    where the broker was not reached."""
    if isinstance(exc, ConnectionRefused):
        return refused(exc, user, url), exit_code(exc)
    if isinstance(exc, SubscriptionRefused):  # a ConnectionError, but the broker answered
        return subscription_refused(exc, node), exit_code(exc)
    if isinstance(exc, NoReply):  # the broker took the request (or refused it): no reply
        return str(exc), exit_code(exc)
    return f"{unreachable}: {in_words(exc)}", exit_code(exc)


async def request(args: argparse.Namespace, node: str, service: str, fields: list[str]) -> int:
    """Print the reply; exit 1 if refused (the request, the subscription to its reply) or no
    reply, 2 for a usage error, 3 if no broker or the connection refused."""
    try:
        broker = endpoint.from_arguments(args)
        body = parse_fields(fields)
    except ValueError as exc:
        print(f"cti request: {exc}", file=sys.stderr)
        return 2
    if broker.username is None:
        print("cti request: say who you are: --user NAME (password: CTI_PASSWORD)", file=sys.stderr)
        return 2
    try:
        doc = await call(broker, node, service, body)
    except CALL_FAILURES as exc:
        where = f"no broker at {args.mqtt_url}"
        line, code = failure(exc, broker.username, args.mqtt_url, node, where)
        print(f"cti request: {line}", file=sys.stderr)
        return code
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0 if isinstance(doc, dict) and doc.get("ok") else 1
