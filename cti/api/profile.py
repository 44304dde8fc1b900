"""setProfile: a user changes their profile, an administrator anyone's (USER-03).

The photo arrives base64 in the JSON request. It is decoded, checked (JPEG or PNG, at least
40x40 pixels, at most 512 kB) and scaled to 200x200 here, where it arrives, in a worker thread
(cti.accounts.photos): decoding images is slow and takes memory, and the node's writer does
neither. The node gets the result in an INTERNAL command (SetProfileChecked), authorizes it
against its state like any other (the account's owner or an administrator, cti.accounts.access)
and makes the numbers and the e-mail address canonical (cti.accounts.profiles). getProfile is
an ordinary query of the accounts context.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import attrs

from cti.accounts import photos, profiles
from cti.accounts.access import authorize
from cti.accounts.commands import SetProfileChecked
from cti.accounts.model import ProfileField, Visibility
from cti.app.engine import Executor
from cti.app.node import Outcome, Refused
from cti.kernel.messages import NoResult
from cti.kernel.refusal import Refusal

MAX_PAYLOAD = photos.MAX_TEXT + 16 * 1024  # a photo and the other fields


@attrs.frozen(kw_only=True)
class SetProfileRequest:
    """Change a profile (USER-03): the fields given change, those named in ``clear`` are
    emptied, the others stay. ``name``: whose profile (default: the sender's own; another's
    for administrators). ``photo``: a JPEG or PNG file in base64 (or a data: URL), at least
    40x40 pixels, at most 512 kB; it is kept scaled to 200x200."""

    SERVICE: ClassVar[str] = "setProfile"
    ADMIN: ClassVar[bool] = False
    RESULT: ClassVar[Any] = NoResult
    MAX_PAYLOAD: ClassVar[int] = MAX_PAYLOAD
    name: str | None = None
    mobile: str | None = None
    external: str | None = None
    email: str | None = attrs.field(default=None, metadata={"max_length": profiles.MAX_EMAIL})
    photo: str | None = attrs.field(
        default=None, repr=False, metadata={"max_length": photos.MAX_TEXT}
    )
    presence_visibility: Visibility | None = None
    voicemail_to_email: bool | None = None
    clear: tuple[ProfileField, ...] = ()


async def prepare(
    engine: Executor, request: SetProfileRequest, principal: str | None
) -> SetProfileChecked:
    """The command that carries the checked photo; raises Refusal (a bad photo, a sender who
    may not change that profile)."""
    name = request.name if request.name is not None else principal
    if name is None:
        raise Refusal(
            "invalidParameterValue",
            "name: whose profile (there is no signed-in account to default to)",
            {"field": "name", "reason": "missing"},
        )
    command = SetProfileChecked(
        name=name,
        mobile=request.mobile,
        external=request.external,
        email=request.email,
        presence_visibility=request.presence_visibility,
        voicemail_to_email=request.voicemail_to_email,
        clear=request.clear,
    )
    if principal is not None:
        node = engine.node
        account = node.state.accounts.account(principal)
        if account is not None and account.must_change:
            # USER-01: nothing but changePassword until an administrator-set password is
            # changed, one's own profile included (authorize() in the node says so too).
            raise Refusal(
                "passwordChangeRequired",
                "change the password an administrator set first (changePassword)",
            )
        # Refused before the photo costs anything; the node decides again when it commits.
        try:
            authorize(node.site, node.state, principal, command)
        except Refusal as refusal:
            if refusal.name != "notPermitted" or account is None:
                raise
            raise Refusal(
                "notPermitted",
                f"{principal} may change their own profile only (administrators: anyone's)",
            ) from None
    if request.photo is None:
        return command
    photo = await asyncio.to_thread(photos.from_upload, request.photo)
    return attrs.evolve(command, photo=photo)


async def execute(engine: Executor, request: SetProfileRequest, principal: str | None) -> Outcome:
    try:
        command = await prepare(engine, request, principal)
    except Refusal as refusal:
        return Refused(refusal)
    return await engine.execute(command, principal)
