"""How trunk parties (and, in load runs, people at internal phones) react to a ringing call."""

from __future__ import annotations

import attrs

RING_SECONDS = 5.0  # one ring cycle on a public network


@attrs.frozen
class Behaviour:
    answer_after: int | None = None  # rings before answering; None: never answers by itself
    busy: bool = False  # the line is in use: calls to it fail with cause busy
    hang_up_after: float | None = None  # seconds of talking before hanging up

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """``answers after 2 rings`` / ``answers`` / ``busy`` / ``no answer``, optionally
        followed by ``, hangs up after 30s``."""
        answer_after: int | None = None
        busy = False
        hang_up: float | None = None
        for part in (p.strip() for p in text.split(",")):
            words = part.split()
            if part in ("no answer", "never answers", "manual"):
                continue
            if part == "busy":
                busy = True
            elif words[:1] == ["answers"]:
                answer_after = 0
                if words[1:2] == ["after"] and len(words) >= 3:
                    answer_after = int(words[2])
            elif words[:3] == ["hangs", "up", "after"] and len(words) == 4:
                hang_up = float(words[3].rstrip("s"))
            else:
                raise ValueError(
                    f"unknown behaviour {part!r}: use 'answers after N rings', 'busy', "
                    "'no answer', 'hangs up after Ns'"
                )
        return cls(answer_after, busy, hang_up)
