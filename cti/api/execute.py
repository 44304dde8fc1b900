"""What a request answers: runs a parsed command or query and shapes the JSON reply.

Shared by the MQTT face and by in-process clients (phone_sim), so a reply looks the same
whichever way the request came in:
``{"ok": true, "result": {...}, "seq": N}`` or ``{"ok": false, "error": {"code", "message"}}``
(plus ``details`` when the refusal has them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cti.api import chat as chats
from cti.api import directory, passwords, profile, replies, voicemail
from cti.api.chat import ChatService
from cti.api.directory import ImportContactsRequest, UploadContactsPartRequest
from cti.api.journal import JOURNAL_COMMANDS, REQUESTS, JournalService
from cti.api.passwords import ChangePasswordRequest, CreateAccountRequest, SetPasswordRequest
from cti.api.profile import SetProfileRequest
from cti.api.requests import Action
from cti.app.engine import Executor
from cti.app.node import Accepted, Outcome
from cti.calls.commands import GenerateDigits
from cti.directory.queries import SearchDirectory
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal
from cti.voicemail.commands import ListenVoicemailMessage
from cti.voicemail.queries import FetchVoicemailAudio


def error(code: str, message: str, details: Mapping[str, object] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = dict(details)
    return {"ok": False, "error": body}


def refused(refusal: Refusal) -> dict[str, Any]:
    return error(refusal.name, refusal.message, refusal.details)


async def execute(
    engine: Executor,
    action: Action,
    principal: str | None = None,
    *,
    secure: bool = False,
    journal: JournalService | None = None,
    chat: ChatService | None = None,
) -> dict[str, Any]:
    """Run ``action`` for the account ``principal`` (None: a face without accounts);
    ``secure``: it came over an encrypted connection (the broker's TLS listener);
    ``journal``: the node's journal, which answers the journal's requests (JOUR-01..05);
    ``chat``: the node's chat, which answers the chat's requests (IM-01..03)."""
    node = engine.node
    if isinstance(action, chats.REQUESTS):  # the chat's own store, not the call log
        if chat is None:
            return error("serviceNotSupported", f"{action.SERVICE}: this face has no chat")
        return await chat.execute(action, principal)
    if isinstance(action, REQUESTS):
        if journal is None:
            return error("serviceNotSupported", f"{action.SERVICE}: this face has no journal")
        return await journal.execute(action, principal)
    if isinstance(action, JOURNAL_COMMANDS):  # only the journal knows whose an entry is
        if journal is None:
            return error("serviceNotSupported", f"{action.SERVICE}: this face has no journal")
        return await journal.execute(action, principal)  # checks the entry is the user's
    if isinstance(action, CreateAccountRequest | SetPasswordRequest | ChangePasswordRequest):
        outcome = await passwords.execute(engine, action, principal, secure=secure)
        return _reply(node.state.seq, outcome)
    if isinstance(
        action,
        voicemail.LeaveVoicemailMessage
        | voicemail.EnterVoicemailPin
        | voicemail.ChangeVoicemailPinOnPhone
        | voicemail.ChangeVoicemailPin
        | voicemail.CallBackVoicemailMessage
        | voicemail.SaveVoicemailContact,
    ):
        return await voicemail.execute(engine, action, principal, secure=secure)
    if isinstance(action, GenerateDigits) and voicemail.keys_pin(node, action):  # VM-03
        return await voicemail.execute(engine, action, principal, secure=secure)
    if isinstance(action, ListenVoicemailMessage | FetchVoicemailAudio):  # with the audio
        return await voicemail.execute(engine, action, principal, secure=secure)
    if isinstance(action, SetProfileRequest):
        return _reply(node.state.seq, await profile.execute(engine, action, principal))
    if isinstance(action, ImportContactsRequest):
        return _reply(node.state.seq, await directory.import_contacts(engine, action, principal))
    if isinstance(action, UploadContactsPartRequest):
        return _reply(node.state.seq, await directory.upload_part(engine, action, principal))
    if isinstance(action, SearchDirectory):
        try:
            found = await directory.search(engine, action, principal)
        except Refusal as refusal:
            return refused(refusal)
        return {"ok": True, "result": found, "seq": node.state.seq}
    if isinstance(action, Query):
        try:
            result = node.query(action, principal)
        except Refusal as refusal:
            return refused(refusal)
        return {"ok": True, "result": result, "seq": node.state.seq}
    return _reply(node.state.seq, await engine.execute(action, principal))


def _reply(seq: int, outcome: Outcome) -> dict[str, Any]:
    if isinstance(outcome, Accepted):
        return replies.accepted(outcome, seq)
    return refused(outcome.error)
