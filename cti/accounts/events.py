"""Events of the accounts context.

Account administration events are INTERNAL (stored, replayed, never published): they hold
password hashes, and nothing on a topic needs them.

A profile change (USER-03) is public: other users' directories and favourites show it. It is
two events. ProfileChanged is the profile as it now is, its photo named by the SHA-256 of the
image: small, published like any event. ProfilePhotoSet, just before it when the photo
changed, carries the image itself (the node's 200x200 JPEG or PNG, base64, 5 to 40 kB): it is
INTERNAL, so the log stays the one source of truth of the photo (replay, snapshots, a restore
give it back; there is no second store to keep in step) while no published event, replay page
or in-memory commit feed carries kilobytes of image. Clients fetch the image with getProfile
when the hash they see is not the one they have cached.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from cti.accounts.model import Licence, PhotoType, Role, Visibility
from cti.kernel.messages import Event
from cti.site.model import DialMethod


@attrs.frozen(kw_only=True)
class AssignedPhoneSet(Event):
    KIND: ClassVar[str] = "assignedPhoneSet"
    user: str
    phone: str

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class DialMethodSet(Event):
    KIND: ClassVar[str] = "dialMethodSet"
    user: str
    dial_method: DialMethod

    def devices(self) -> tuple[str, ...]:
        return (self.user,)


@attrs.frozen(kw_only=True)
class AccountCreated(Event):
    KIND: ClassVar[str] = "accountCreated"
    INTERNAL: ClassVar[bool] = True
    name: str
    display_name: str
    role: Role
    numbers: tuple[str, ...]  # the devices the account acts as
    licences: tuple[Licence, ...]


@attrs.frozen(kw_only=True)
class AccountUpdated(Event):
    """The account's public fields as they are now."""

    KIND: ClassVar[str] = "accountUpdated"
    INTERNAL: ClassVar[bool] = True
    name: str
    display_name: str
    role: Role
    numbers: tuple[str, ...]  # the devices the account acts as
    licences: tuple[Licence, ...]


@attrs.frozen(kw_only=True)
class PasswordSet(Event):
    KIND: ClassVar[str] = "passwordSet"
    INTERNAL: ClassVar[bool] = True
    name: str
    password: str = attrs.field(repr=False)  # argon2id hash, never the password
    broker_password: str = attrs.field(repr=False)  # Mosquitto's PBKDF2 verifier
    must_change: bool


@attrs.frozen(kw_only=True)
class AccountRemoved(Event):
    KIND: ClassVar[str] = "accountRemoved"
    INTERNAL: ClassVar[bool] = True
    name: str


@attrs.frozen(kw_only=True)
class ProfilePhotoSet(Event):
    """The photo a profile shows from now on; a ProfileChanged with its sha256 follows."""

    KIND: ClassVar[str] = "profilePhotoSet"
    INTERNAL: ClassVar[bool] = True  # kilobytes of image: kept in the log, never published
    name: str
    content_type: PhotoType
    data: str = attrs.field(repr=False)  # base64 of the image file
    sha256: str


@attrs.frozen(kw_only=True)
class ProfileChanged(Event):
    """A user's profile as it is now (USER-03). No secret is in it: it is published."""

    KIND: ClassVar[str] = "profileChanged"
    VERSION: ClassVar[int] = 2  # 2: presence_visibility of three levels (PRES-04)
    # On the owner's own event topic: voicemailToEmail and the visibility are theirs (others
    # see the profile document, which leaves voicemailToEmail out).
    OWNER: ClassVar[str] = "name"
    name: str  # the account
    mobile: str | None  # E.164
    external: str | None  # E.164
    email: str | None
    photo_sha256: str | None  # the photo of the last profilePhotoSet; None: no photo
    presence_visibility: Visibility
    voicemail_to_email: bool

    def devices(self) -> tuple[str, ...]:
        return (self.name,)


def profile_changed_v1(fields: dict[str, Any]) -> dict[str, Any]:
    """v1 had a flag ``presence_visible``: visible is the default level, hidden is hidden."""
    fields = dict(fields)
    visible = fields.pop("presence_visible")
    level = Visibility.INTERNAL_AND_EXTERNAL if visible else Visibility.NOT_VISIBLE
    return {**fields, "presence_visibility": level.value}


UPCASTERS = {("profileChanged", 1): profile_changed_v1}

EVENT_TYPES: dict[str, type[Event]] = {
    cls.KIND: cls
    for cls in (
        AssignedPhoneSet,
        DialMethodSet,
        AccountCreated,
        AccountUpdated,
        PasswordSet,
        AccountRemoved,
        ProfilePhotoSet,
        ProfileChanged,
    )
}
