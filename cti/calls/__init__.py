"""Call control (CALL-01..16), a context of the node: ECMA-269 services on calls and devices.

``commands`` and ``events`` (ECMA-269 names), ``services/`` where each service is decided,
``routing`` the rules an offered call goes through, ``evolve`` where an event changes the
``state``, ``views`` the busy-lamp summary of a device, ``records`` the call records read
model (stored by ``records_db``, the only module here that does I/O), ``context`` what the
node composes. See specs/call-model.md.
"""
