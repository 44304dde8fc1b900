"""A real SMTP server in-process (aiosmtpd) that keeps what it received, parsed with the
``email`` package, for the voicemail-to-e-mail tests (VM-07)."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests import waiting

TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Inbox:
    """aiosmtpd's handler: every message accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.unknown: set[str] = set()  # addresses refused with 550 (a bad address)
        self.busy: set[str] = set()  # addresses refused with 452 (for now: try again later)
        self.deferred: list[str] = []  # every address refused with 452, in order

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.unknown:
            return "550 5.1.1 no such user"
        if address.lower() in self.busy:
            self.deferred.append(address.lower())
            return "452 4.2.2 mailbox full, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


async def until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    """tests.waiting.until, bounded by the mail tests' longer TIMEOUT (an SMTP round trip)."""
    await waiting.until(condition, what, timeout)
