"""Profiles (USER-03): mobile and external number, e-mail address, photo, presence visibility
(PRES-04),
voicemail to e-mail. What directories and favourites show of a user.

A change names only what changes (the fields given; ``clear`` empties some); the rest stays.
The node keeps every value in one canonical form, so directories compare and dial them as
they are: numbers as E.164 through the site's number plan (``0171 2345678`` at a German site
is ``+491712345678``; a number that is none is refused), the e-mail address trimmed with its
domain in lower case (the part before the ``@`` is the mailbox owner's business and stays as
written). A refusal is ``invalidParameterValue`` with ``details`` naming the ``field`` and a
``reason``; photos are checked and scaled before they reach the node (cti.accounts.photos).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import attrs

from cti.accounts import events as ev
from cti.accounts import photos
from cti.accounts.commands import SetProfileChecked
from cti.accounts.model import Account, PhotoType, Profile, ProfileField, Visibility
from cti.kernel.decision import Decision
from cti.kernel.messages import Query
from cti.kernel.refusal import Refusal, invalid_field
from cti.site import Site
from cti.site.numbers import InvalidNumber

if TYPE_CHECKING:
    from cti.domain.state import NodeState

REFUSALS = frozenset({"unknownUser", "invalidParameterValue"})
MAX_EMAIL = 254  # RFC 5321: a path of 256 octets, less the angle brackets
MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_LABEL = 63
# The part before the @: dot-separated runs of what RFC 5322 (and RFC 6531 for non-ASCII)
# allows unquoted. Quoted local parts ("john doe"@...) are not taken.
_ATOM = r"[^\s\x00-\x1f\x7f\"(),:;<>@\[\\\].]+"
_LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")  # fullmatch, as _LABEL
# A domain label: letters and digits of any script, hyphens inside (xn--... included).
_LABEL = re.compile(r"[^\W_]+(?:-+[^\W_]+)*")


def canonical_email(text: str) -> str:
    """``text`` as the address kept: trimmed, the domain in lower case; raises Refusal."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    problem = None
    if not at or not local:
        problem = "it needs a name before an '@' and a domain after it"
    elif len(address) > MAX_EMAIL or len(local) > MAX_LOCAL or len(domain) > MAX_DOMAIN:
        problem = f"at most {MAX_LOCAL} characters before the '@' and {MAX_EMAIL} in all"
    elif not _LOCAL.fullmatch(local):
        problem = f"{local!r} is not a mailbox name (no spaces, quotes or '@'; dots between)"
    elif len(labels) < 2 or not all(
        _LABEL.fullmatch(label) and len(label) <= MAX_LABEL for label in labels
    ):
        problem = f"{domain!r} is not a domain name (like example.com)"
    elif len(labels[-1]) < 2 or labels[-1].isdigit():
        problem = f"{domain!r} does not end in a top-level domain"
    if problem is not None:
        raise invalid_field("email", "notAnEmailAddress", f"email {text!r}: {problem}")
    return f"{local}@{domain.lower()}"


def canonical_number(site: Site, field: str, text: str) -> str:
    """``text`` as E.164 through the site's number plan (an extension: its DID)."""
    try:
        return site.plan.canonical(text.strip())
    except InvalidNumber as exc:
        raise invalid_field(field, "notANumber", f"{field}: {exc}") from None


def changed(site: Site, profile: Profile, c: SetProfileChecked) -> Profile:
    """The profile after ``c``: what it gives, made canonical; what it clears, emptied."""
    given = {f for f in ProfileField if getattr(c, f.value) is not None}
    both = sorted(given & set(c.clear))
    if both:
        raise invalid_field(
            both[0], "givenAndCleared", f"{both[0]} is both given and to be cleared"
        )
    emptied: dict[str, Any] = {f.value: None for f in c.clear}
    new = attrs.evolve(profile, **emptied)
    if c.mobile is not None:
        new = attrs.evolve(new, mobile=canonical_number(site, "mobile", c.mobile))
    if c.external is not None:
        new = attrs.evolve(new, external=canonical_number(site, "external", c.external))
    if c.email is not None:
        new = attrs.evolve(new, email=canonical_email(c.email))
    if c.photo is not None:
        problem = photos.problem_of_kept(c.photo)
        if problem is not None:  # only the API makes this command: a bug, not bad input
            raise invalid_field(
                "photo", "notAsPrepared", f"the photo is not one the node made: {problem}"
            )
        new = attrs.evolve(new, photo=c.photo)
    if c.presence_visibility is not None:
        new = attrs.evolve(new, presence_visibility=c.presence_visibility)
    if c.voicemail_to_email is not None:
        new = attrs.evolve(new, voicemail_to_email=c.voicemail_to_email)
    return new


def _account(state: NodeState, name: str) -> Account:
    account = state.accounts.account(name)
    if account is None:
        raise Refusal("unknownUser", f"there is no account {name}")
    return account


def set_profile(d: Decision[NodeState], c: SetProfileChecked) -> None:
    """Records the new profile; a change that changes nothing records nothing."""
    old = _account(d.state, c.name).profile
    new = changed(d.site, old, c)
    if new == old:
        return
    if new.photo is not None and new.photo != old.photo:
        d.emit(
            ev.ProfilePhotoSet(
                name=c.name,
                content_type=new.photo.content_type,
                data=new.photo.data,
                sha256=new.photo.sha256,
            )
        )
    d.emit(
        ev.ProfileChanged(
            name=c.name,
            mobile=new.mobile,
            external=new.external,
            email=new.email,
            photo_sha256=None if new.photo is None else new.photo.sha256,
            presence_visibility=new.presence_visibility,
            voicemail_to_email=new.voicemail_to_email,
        )
    )


# -- getProfile -------------------------------------------------------------------------------
class PhotoResult(TypedDict):
    contentType: PhotoType
    data: str  # base64 of the 200x200 image file
    sha256: str  # hex SHA-256 of the image file (what profileChanged names it by)


class ProfileResult(TypedDict):
    """A user's profile (USER-03)."""

    name: str
    displayName: str
    mobile: str | None
    external: str | None
    email: str | None
    photo: PhotoResult | None
    presenceVisibility: Visibility  # who sees the user's presence (PRES-04)
    voicemailToEmail: bool


@attrs.frozen(kw_only=True)
class GetProfile(Query):
    """A user's profile, the photo included (any signed-in account may ask: profiles are
    what directories and favourites show)."""

    SERVICE: ClassVar[str] = "getProfile"
    RESULT: ClassVar[Any] = ProfileResult
    name: str


def result(account: Account) -> ProfileResult:
    p = account.profile
    photo = (
        None
        if p.photo is None
        else PhotoResult(contentType=p.photo.content_type, data=p.photo.data, sha256=p.photo.sha256)
    )
    return ProfileResult(
        name=account.name,
        displayName=account.display_name,
        mobile=p.mobile,
        external=p.external,
        email=p.email,
        photo=photo,
        presenceVisibility=p.presence_visibility,
        voicemailToEmail=p.voicemail_to_email,
    )


def get_profile(site: Site, state: NodeState, q: GetProfile) -> ProfileResult:
    return result(_account(state, q.name))


SERVICES: dict[type[Any], Any] = {SetProfileChecked: set_profile}
QUERIES: dict[type[Any], Any] = {GetProfile: get_profile}
