"""The shared kernel: what every bounded context of the node builds on.

Commands, queries and events are frozen attrs classes (:mod:`cti.kernel.messages`); a context
decides commands against the node state with a :class:`~cti.kernel.decision.Decision`, refuses
with a :class:`~cti.kernel.refusal.Refusal`, and describes itself (its commands, queries, events,
evolve table, snapshot part) with a :class:`~cti.kernel.context.Context`. Events carry a version;
old logs are read through upcasters (:mod:`cti.kernel.versions`). Nothing here does I/O.
"""
