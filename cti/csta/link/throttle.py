"""Failed associations per source address: how long the next answer waits (specs/csta.md).

Pure bookkeeping with an injected clock (tests move time by hand): the session asks how long
to wait and does the waiting. From one address the first failed association costs nothing (a
mistyped password), the second is answered after ``first`` seconds, every further one after
twice the previous delay, at most ``cap``; an association from that address is not checked
before the last delay has passed. A success from the address, or ``quiet`` seconds without a
failure, forgets its failures. At most ``max_addresses`` addresses are remembered (those
quiet longest are forgotten first), so a flood of addresses costs bounded memory.
"""

from __future__ import annotations

import attrs

from cti.app.clock import Clock


@attrs.define
class _Record:
    failures: int
    last_ms: int  # when the last failure happened (clock ms)
    not_before_ms: int  # no association from the address is checked before this


class Throttle:
    def __init__(
        self,
        clock: Clock,
        *,
        free: int = 1,
        first: float = 1.0,
        cap: float = 30.0,
        quiet: float = 300.0,
        max_addresses: int = 10_000,
    ) -> None:
        if free < 0 or first <= 0 or cap < first or quiet < cap or max_addresses < 1:
            raise ValueError("throttle: need free >= 0, 0 < first <= cap <= quiet")
        self.clock = clock
        self.free = free
        self.first_ms = round(first * 1000)
        self.cap_ms = round(cap * 1000)
        self.quiet_ms = round(quiet * 1000)
        self.max_addresses = max_addresses
        self._records: dict[str, _Record] = {}  # oldest failure first

    def delay_ms(self, failures: int) -> int:
        """The delay of an address's ``failures``-th failure in a row."""
        beyond = failures - self.free
        if beyond <= 0:
            return 0
        # 2**(beyond - 1) grows without bound; stop doubling once past the cap
        return min(self.first_ms << min(beyond - 1, 32), self.cap_ms)

    def failures(self, address: str) -> int:
        """Failures of ``address`` in a row that still count."""
        record = self._current(address)
        return 0 if record is None else record.failures

    def not_before_ms(self, address: str) -> int:
        """Clock time before which an association from ``address`` is not checked."""
        record = self._current(address)
        return 0 if record is None else record.not_before_ms

    def failed(self, address: str) -> int:
        """Count a failed association of ``address``; the ms its answer waits."""
        now = self.clock.now_ms()
        record = self._current(address)
        failures = 1 if record is None else record.failures + 1
        delay = self.delay_ms(failures)
        self._records.pop(address, None)
        self._records[address] = _Record(failures, now, now + delay)  # now the newest
        self._prune(now)
        return delay

    def succeeded(self, address: str) -> None:
        self._records.pop(address, None)

    def __len__(self) -> int:
        return len(self._records)

    def _current(self, address: str) -> _Record | None:
        record = self._records.get(address)
        if record is not None and self.clock.now_ms() - record.last_ms >= self.quiet_ms:
            del self._records[address]
            return None
        return record

    def _prune(self, now: int) -> None:
        if len(self._records) <= self.max_addresses:
            return
        for address in [a for a, r in self._records.items() if now - r.last_ms >= self.quiet_ms]:
            del self._records[address]
        while len(self._records) > self.max_addresses:
            del self._records[next(iter(self._records))]
