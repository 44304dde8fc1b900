"""The ``[chat]`` section of the site file (specs/chat.md): instant messaging's options."""

from __future__ import annotations

from typing import Any

import attrs

from cti.app.config.site_file import _flag, _keys
from cti.site.model import SiteError

_CHAT_KEYS = frozenset({"store_and_forward"})


@attrs.frozen
class ChatSettings:
    # IM-02: a message to an offline partner is refused. The older guide stored it for the
    # partner's next sign-in; a site may choose that instead.
    store_and_forward: bool = False


def chat_from_dict(section: Any) -> ChatSettings:
    if section is None:
        return ChatSettings()
    if not isinstance(section, dict):
        raise SiteError("chat must be a table ([chat])")
    _keys(section, _CHAT_KEYS, "[chat]")
    return ChatSettings(store_and_forward=_flag(section, "store_and_forward", "[chat]"))
