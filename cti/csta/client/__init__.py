"""A CSTA application in Python: associate, invoke services, monitor devices, read reports.

:mod:`arguments` maps our service names and fields to CSTA invokes and back, so the client
speaks the same requests as the MQTT face.
"""

from cti.csta.client.connection import (
    AssociationRefused,
    CstaClient,
    CstaClientError,
    CstaRefused,
    CstaRejected,
    EventReport,
    LinkClosed,
    RequestFailed,
)

__all__ = [
    "AssociationRefused",
    "CstaClient",
    "CstaClientError",
    "CstaRefused",
    "CstaRejected",
    "EventReport",
    "LinkClosed",
    "RequestFailed",
]
