"""The transport-neutral API of a node: requests in, replies and documents out.

Every face uses it, so a service behaves and answers the same whichever door it came in by:
the MQTT face, the CSTA link (for its argument checks), phone_sim's in-process link and the
clients we ship. :mod:`~cti.api.requests` turns a service name and JSON fields into a command or
query (or a :class:`~cti.api.requests.BadRequest`), :mod:`~cti.api.execute` runs it and shapes
the reply, :mod:`~cti.api.documents` renders events and states; :mod:`~cti.api.schema` describes
all of them as JSON Schema (specs/api.schema.json).
"""
