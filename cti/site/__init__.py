"""The site: the switch plan of one node (devices, groups, the number plan).

Configuration, not state: services read it to decide, events never depend on it. It is read
from a TOML file by :mod:`cti.app.config`; see specs/site.md.
"""

from cti.site.model import (
    AUTO_ANSWER_KINDS,
    EXTERNAL_KINDS,
    PHONE_KINDS,
    Device,
    DeviceKind,
    DialMethod,
    Site,
    SiteError,
    SpeedDial,
)

__all__ = [
    "AUTO_ANSWER_KINDS",
    "EXTERNAL_KINDS",
    "PHONE_KINDS",
    "Device",
    "DeviceKind",
    "DialMethod",
    "Site",
    "SiteError",
    "SpeedDial",
]
