"""The application's configuration: the site file (TOML) read into the switch plan and the
settings of the faces.

The switch plan (:class:`~cti.site.Site`) is what services decide with; ``[csta]`` configures
an adapter. Configuration that changes at run time (per-user settings, later accounts,
favourites...) is not here: it is event-sourced in the node's log, seeded from the site file
where the file gives a value (specs/configuration.md).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from cti.app.config.chat import ChatSettings, chat_from_dict
from cti.app.config.csta import CstaSettings, csta_from_dict
from cti.app.config.site_file import site_from_dict
from cti.app.config.smtp import SmtpSettings, smtp_from_dict
from cti.app.config.users import UserSpec, users_from_dict
from cti.site import Site, SiteError

__all__ = [
    "EXAMPLE_SITE",
    "ChatSettings",
    "Config",
    "ConfigError",
    "CstaSettings",
    "SmtpSettings",
    "UserSpec",
    "config_from_dict",
    "load_config",
    "load_site",
    "site_from_dict",
]

EXAMPLE_SITE = "example.toml"

# The configuration error raised for a bad site file: its message names the file, then the
# offending section, entry and key (specs/site.md, "Validation").
ConfigError = SiteError


@attrs.frozen
class Config:
    site: Site
    csta: CstaSettings = attrs.field(factory=CstaSettings)
    users: tuple[UserSpec, ...] = ()
    smtp: SmtpSettings | None = None  # voicemail to e-mail (VM-07); None: no mail is sent
    chat: ChatSettings = attrs.field(factory=ChatSettings)


def config_from_dict(raw: Mapping[str, Any]) -> Config:
    """The configuration from a parsed site file; raises SiteError naming the problem."""
    site = site_from_dict(raw)
    return Config(
        site=site,
        csta=csta_from_dict(raw.get("csta")),
        users=users_from_dict(raw, site),
        smtp=smtp_from_dict(raw.get("smtp")),
        chat=chat_from_dict(raw.get("chat")),
    )


def load_config(path: str | Path | None = None) -> Config:
    """The configuration from ``path``, or the example site shipped with the package."""
    try:
        if path is None:
            text = resources.files("cti.sites").joinpath(EXAMPLE_SITE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return config_from_dict(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        where = path or f"built-in {EXAMPLE_SITE}"
        if isinstance(exc, SiteError):
            raise SiteError(f"{where}: {exc}") from exc
        if isinstance(exc, OSError) and exc.strerror:  # "no such file", not the errno's repr
            raise SiteError(f"{where}: {exc.strerror.lower()}") from exc
        if isinstance(exc, tomllib.TOMLDecodeError):
            raise SiteError(f"{where}: not TOML: {exc}") from exc
        raise SiteError(f"{where}: {type(exc).__name__}: {exc}") from exc


def load_site(path: str | Path | None = None) -> Site:
    """The switch plan alone (tools that do not run faces)."""
    return load_config(path).site
