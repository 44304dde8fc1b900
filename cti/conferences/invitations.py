"""Invitation texts (CONF-07), in German and English: for all (the dial-in number and, if the
conference has one, the guest PIN) or for one participant (plus their personal PIN).

Plain text for an e-mail or a chat message the user sends themselves; the node sends
nothing. The PIN is in the answer to the one who asked, never in a topic others read."""

from __future__ import annotations

from enum import StrEnum

from cti.site import Site
from cti.site.numbers import InvalidNumber


class Language(StrEnum):
    DE = "de"
    EN = "en"


_TEXTS = {
    Language.DE: {
        "hello": "Hallo {name},",
        "invite": 'Sie sind zur Telefonkonferenz "{conference}" eingeladen.',
        "dial": "Wählen Sie {external} (intern {internal}).",
        "guest": "Geben Sie danach die Gast-PIN {pin} ein und bestätigen Sie mit #.",
        "personal": "Geben Sie danach Ihre persönliche PIN {pin} ein und bestätigen Sie mit #.",
        "ask": "Die PIN erhalten Sie vom Moderator.",
    },
    Language.EN: {
        "hello": "Hello {name},",
        "invite": 'you are invited to the conference call "{conference}".',
        "dial": "Dial {external} (internally {internal}).",
        "guest": "Then enter the guest PIN {pin} followed by #.",
        "personal": "Then enter your personal PIN {pin} followed by #.",
        "ask": "The moderator will give you the PIN.",
    },
}


def dial_in_numbers(site: Site) -> tuple[str, str]:
    """(the dial-in number from outside in E.164, the internal one)."""
    assert site.conferences is not None
    internal = site.conferences.dial_in
    try:
        return site.plan.canonical(internal), internal
    except InvalidNumber:  # a site without a base number has no DID: internal only
        return internal, internal


def text(
    site: Site,
    language: Language,
    conference: str,
    *,
    name: str | None = None,
    personal: str | None = None,
    guest: str | None = None,
) -> str:
    """The invitation: to ``name`` with their ``personal`` PIN, or to all with ``guest``."""
    t = _TEXTS[language]
    external, internal = dial_in_numbers(site)
    lines = []
    invite = t["invite"].format(conference=conference)
    if name is not None:
        lines.append(t["hello"].format(name=name))
    else:
        invite = invite[0].upper() + invite[1:]
    lines += [invite, t["dial"].format(external=external, internal=internal)]
    if personal is not None:
        lines.append(t["personal"].format(pin=personal))
    elif guest is not None:
        lines.append(t["guest"].format(pin=guest))
    else:
        lines.append(t["ask"])
    return "\n".join(lines)
