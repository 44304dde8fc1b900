"""The ``[smtp]`` section of the site file: where voicemail to e-mail (VM-07) sends its mail.
Configuration of a follower, not of the switch: services never read it. Without the section
no mail is sent (messages still record where they were to go, and go once it is added).

```toml
[smtp]
host = "mail.example.com"
port = 587
starttls = true          # STARTTLS before signing in (default true on any port but 25)
user = "cti@example.com" # optional: sign in (AUTH) with user and password
password = "..."         # never logged, never shown (repr hides it)
sender = "Voicemail <cti@example.com>"
retry_max = 300          # seconds: the longest pause between attempts
max_age = 432000         # seconds (5 days): an e-mail refused for now (4xx) is given up then
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from cti.app.config.site_file import _keys, _text
from cti.site.model import SiteError

_KEYS = frozenset(
    {"host", "port", "starttls", "user", "password", "sender", "retry_max", "max_age"}
)


@attrs.frozen
class SmtpSettings:
    host: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: str = "voicemail@localhost"
    retry_max: float = 300.0  # seconds: the longest pause between attempts (it doubles from 1)
    # seconds from its recording: an e-mail the server keeps refusing for now (4xx) is given
    # up then (an MTA's queue lifetime; Postfix's default is 5 days too)
    max_age: float = 432_000.0


def smtp_from_dict(section: Any) -> SmtpSettings | None:
    if section is None:
        return None
    where = "[smtp]"
    if not isinstance(section, Mapping):
        raise SiteError("smtp must be a table ([smtp])")
    _keys(section, _KEYS, where)
    host = _text(section, "host", where).strip()
    if not host:
        raise SiteError(f"{where}: host must be given")
    port = section.get("port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SiteError(f"{where}: port must be a whole number 1..65535, not {port!r}")
    starttls = section.get("starttls", port != 25)
    if not isinstance(starttls, bool):
        raise SiteError(f"{where}: starttls must be true or false")
    user = _text(section, "user", where) or None
    password = _text(section, "password", where) or None
    if (user is None) != (password is None):
        raise SiteError(f"{where}: give user and password together (or neither)")
    retry_max = section.get("retry_max", 300.0)
    if isinstance(retry_max, bool) or not isinstance(retry_max, int | float) or retry_max <= 0:
        raise SiteError(f"{where}: retry_max must be a positive number of seconds")
    max_age = section.get("max_age", 432_000.0)
    if isinstance(max_age, bool) or not isinstance(max_age, int | float) or max_age <= 0:
        raise SiteError(f"{where}: max_age must be a positive number of seconds")
    return SmtpSettings(
        host=host,
        port=port,
        starttls=starttls,
        user=user,
        password=password,
        sender=_text(section, "sender", where, "voicemail@localhost"),
        retry_max=float(retry_max),
        max_age=float(max_age),
    )
