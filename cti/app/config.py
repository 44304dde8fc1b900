"""Loading the site configuration file (TOML)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from cti.site.model import Site, SiteError

EXAMPLE_SITE = "example.toml"

# The configuration error raised for a bad site file: its message names the file, then the
# offending section, entry and key (specs/site.md, "Validation").
ConfigError = SiteError


def load_site(path: str | Path | None = None) -> Site:
    """The site from ``path``, or the example site shipped with the package."""
    try:
        if path is None:
            text = resources.files("cti.sites").joinpath(EXAMPLE_SITE).read_text("utf-8")
        else:
            text = Path(path).read_text("utf-8")
        return Site.from_dict(tomllib.loads(text))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        where = path or f"built-in {EXAMPLE_SITE}"
        if isinstance(exc, SiteError):
            raise SiteError(f"{where}: {exc}") from exc
        raise SiteError(f"{where}: {type(exc).__name__}: {exc}") from exc
