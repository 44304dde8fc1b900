"""The ``[csta]`` section of the site file: where the CSTA link listens and the account it
accepts. Configuration of an adapter, not of the switch: services never read it."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from cti.app.config.site_file import _keys, _text
from cti.site.model import SiteError

CstaFraming = Literal["siemens", "length2"]
CSTA_FRAMINGS: tuple[CstaFraming, ...] = ("siemens", "length2")
DEFAULT_CSTA_PASSWORD = "cti"


@attrs.frozen
class CstaSettings:
    """Where the CSTA link listens and the one account it accepts."""

    user: str = "cti"
    password: str = DEFAULT_CSTA_PASSWORD
    host: str = "127.0.0.1"  # loopback unless the site says otherwise
    port: int = 8800  # 0: the link is disabled
    framing: CstaFraming = "siemens"

    @property
    def loopback(self) -> bool:
        """Does ``host`` listen on loopback only (127.0.0.0/8, ::1, localhost)?"""
        if self.host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name: it may resolve to anything
            return False

    def unsafe(self) -> str | None:
        """Why listening with these settings is refused, or None.

        The default account on anything but loopback would let anyone on the network drive
        the switch."""
        if not self.loopback and self.password == DEFAULT_CSTA_PASSWORD:
            return (
                f"[csta]: host {self.host!r} is not loopback but the password is the default "
                f"{DEFAULT_CSTA_PASSWORD!r}; set another password (or listen on 127.0.0.1)"
            )
        return None


_CSTA_KEYS = frozenset({"user", "password", "host", "port", "framing"})


def csta_from_dict(section: Any) -> CstaSettings:
    if section is None:
        return CstaSettings()
    if not isinstance(section, Mapping):
        raise SiteError("csta must be a table ([csta])")
    _keys(section, _CSTA_KEYS, "[csta]")
    default = CstaSettings()
    port = section.get("port", default.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise SiteError(f"[csta]: port must be a whole number 0..65535, not {port!r}")
    name = _text(section, "framing", "[csta]", default.framing)
    framing = next((f for f in CSTA_FRAMINGS if f == name), None)
    if framing is None:
        raise SiteError(f"[csta]: unknown framing {name!r} (one of {', '.join(CSTA_FRAMINGS)})")
    settings = CstaSettings(
        user=_text(section, "user", "[csta]", default.user),
        password=_text(section, "password", "[csta]", default.password),
        host=_text(section, "host", "[csta]", default.host),
        port=port,
        framing=framing,
    )
    if not settings.user or not settings.password:
        raise SiteError("[csta]: user and password must not be empty")
    if not settings.host.strip():
        raise SiteError(
            "[csta]: host must not be empty (127.0.0.1 for loopback, 0.0.0.0 for every interface)"
        )
    return settings
