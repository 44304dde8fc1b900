"""Accounts: who may sign in, as what, with which devices and licences (USER-01..05).

A site user's name is their internal number (USER-01); integrator accounts (bridges, test
harnesses, phone_sim) have any name. The password is kept only as hashes: argon2id for the
node's own checks, and the PBKDF2 verifier Mosquitto checks at sign-in (specs/security.md).
Each account has a profile (USER-03): what directories and favourites show of its user.
"""

from __future__ import annotations

from enum import StrEnum

import attrs


class Role(StrEnum):
    USER = "user"  # their own devices, the busy lamps of all
    ADMIN = "admin"  # a user who also administers accounts
    INTEGRATOR = "integrator"  # full control of every device, every topic (bridges, phone_sim)
    MONITOR = "monitor"  # reads everything, changes nothing


# The roles of people (who have favourites and presence, and can be one); the others are
# machines' accounts.
PEOPLE = (Role.USER, Role.ADMIN)


class Licence(StrEnum):
    """What a user's licences allow (USER-05)."""

    VOICEMAIL = "voicemail"
    CONFERENCE = "conference"
    MOBILITY = "mobility"


class PhotoType(StrEnum):
    """The content type of a stored profile photo."""

    JPEG = "image/jpeg"
    PNG = "image/png"


@attrs.frozen
class Photo:
    """A profile photo as kept: the 200x200 image the node made of the uploaded one
    (cti.accounts.photos), base64 in the log and the state, and the SHA-256 of its bytes (what
    clients cache it by)."""

    content_type: PhotoType
    data: str = attrs.field(repr=False)  # base64 of the image file (at most MAX_STORED bytes)
    sha256: str  # hex digest of the image file's bytes


class Visibility(StrEnum):
    """Who sees a user's presence: status, return time and info text (PRES-04). Inside the
    site both visible levels show it to every signed-in user; ``internalAndExternal`` also
    lets it reach outsiders (voicemail announcements, VM-08)."""

    INTERNAL_AND_EXTERNAL = "internalAndExternal"
    INTERNAL_ONLY = "internalOnly"
    NOT_VISIBLE = "notVisible"

    @property
    def internal(self) -> bool:
        return self is not Visibility.NOT_VISIBLE


class ProfileField(StrEnum):
    """The profile fields a change may empty (``clear``)."""

    MOBILE = "mobile"
    EXTERNAL = "external"
    EMAIL = "email"
    PHOTO = "photo"


@attrs.frozen
class Profile:
    """A user's profile (USER-03). Numbers are canonical E.164 (``+4917012345678``), the
    e-mail address trimmed with its domain in lower case; None: not given."""

    mobile: str | None = None  # the user's own mobile (not the site's mobility number, CALL-15)
    external: str | None = None  # an outside number the user is reached at (home office, say)
    email: str | None = None
    photo: Photo | None = None
    # Who sees this user's presence (PRES-04).
    presence_visibility: Visibility = Visibility.INTERNAL_AND_EXTERNAL
    voicemail_to_email: bool = False  # new voicemails are mailed to ``email`` (VM-07)


@attrs.frozen
class Account:
    name: str  # what the account signs in with: a user's internal number (USER-01)
    display_name: str
    role: Role
    devices: tuple[str, ...]  # the numbers the user acts as: own phones, a MULAP (USER-04)
    licences: frozenset[Licence] = frozenset()
    password: str | None = None  # argon2id hash; None: cannot sign in yet
    broker_password: str | None = None  # Mosquitto's $7$ verifier of the same password
    must_change: bool = True  # an administrator set it: change before anything else (USER-01)
    profile: Profile = Profile()  # USER-03

    @property
    def can_sign_in(self) -> bool:
        return self.password is not None and self.broker_password is not None
