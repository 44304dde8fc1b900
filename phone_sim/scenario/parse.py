"""The scenario format (specs/phone-sim.md): a name, the requirement IDs it proves, how trunk
parties behave, and steps in plain words such as ``330 dials 331`` or
``expect 331 talking-internal``."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import attrs
import yaml

from phone_sim.behaviour import Behaviour
from phone_sim.model.actions import VERBS

CHECKS = (
    "display",
    "lamp",
    "ringer",
    "speaker",
    "saw",
    "talking-to",
    "calls",
    "allows",
    "redial",
    "presence",
    "message-waiting",
    "new-messages",
    "heard",
)
STATUSES = (
    "idle",
    "incoming-internal",
    "incoming-external",
    "outgoing",
    "talking-internal",
    "talking-external",
    "held",
    "dnd",
    "ringing",
    "off-hook",
    "on-hook",
)
PHRASES = (  # two words of a step that are one verb or check: typed either way
    ("hangs up", "hangs-up"),
    ("picks up", "picks-up"),
    ("talking to", "talking-to"),
    ("keys pin", "keys-pin"),
    ("changes pin", "changes-pin"),
)


class ScenarioError(ValueError):
    """A scenario file or step that cannot be understood; says which and why."""


@attrs.frozen
class Action:
    device: str
    verb: str
    args: tuple[str, ...]
    fails_with: str | None = None  # the CSTA error the node must answer with


@attrs.frozen
class Expect:
    device: str
    check: str  # a status (see STATUSES) or one of CHECKS
    args: tuple[str, ...] = ()


@attrs.frozen
class Advance:
    seconds: float


Step = Action | Expect | Advance


@attrs.frozen
class Scenario:
    name: str
    requirements: tuple[str, ...]
    steps: tuple[tuple[str, Step], ...]  # (the text as written, the parsed step)
    parties: dict[str, Behaviour] = attrs.field(factory=dict)
    source: str = ""

    @property
    def devices(self) -> set[str]:
        found = set(self.parties)
        for _, step in self.steps:
            if isinstance(step, Action | Expect):
                found.add(step.device)
        return found


_JOINED = {tuple(phrase.split()): token for phrase, token in PHRASES}


def step_words(text: str) -> list[str]:
    """A step's words: two whole words of PHRASES joined (`hangs up` is `hangs-up`, whatever
    the spaces between; `exchanges pinned` stays), quoted text one word."""
    quoted = re.findall(r'"([^"]*)"', text)
    text = re.sub(r'"[^"]*"', "\x00", text)  # quoted text stays as written
    words: list[str] = []
    for word in text.split():
        token = _JOINED.get((words[-1], word)) if words else None
        if token is not None:
            words[-1] = token
        else:
            words.append(word)
    out, q = [], iter(quoted)
    for w in words:
        out.append(w.replace("\x00", next(q)) if "\x00" in w else w)
    return out


def parse_step(text: str) -> Step:
    words = step_words(text.strip())
    if not words:
        raise ScenarioError("empty step")
    if words[0] == "advance":
        match = re.fullmatch(r"(\d+(?:\.\d+)?)s?", words[1]) if len(words) == 2 else None
        if match is None:
            raise ScenarioError(f"{text!r}: write 'advance 20s'")
        return Advance(float(match.group(1)))
    if words[0] == "expect":
        if len(words) < 3:
            raise ScenarioError(f"{text!r}: write 'expect DEVICE STATUS' (or display/lamp/...)")
        device, check, args = words[1], words[2], tuple(words[3:])
        if check in ("saw", "allows", "redial"):
            args = tuple(a.strip(",") for a in " ".join(args).replace(",", " ").split())
        if check not in CHECKS and check not in STATUSES:
            raise ScenarioError(
                f"{text!r}: unknown check {check!r}; one of {', '.join(STATUSES + CHECKS)}"
            )
        return Expect(device, check, args)
    fails_with = None
    if "fails" in words:
        i = words.index("fails")
        if words[i + 1 : i + 2] != ["with"] or len(words) != i + 3:
            raise ScenarioError(f"{text!r}: write '... fails with <cstaError>'")
        fails_with, words = words[i + 2], words[:i]
    if len(words) < 2 or words[1] not in VERBS:
        raise ScenarioError(f"{text!r}: unknown action; one of {', '.join(sorted(VERBS))}")
    return Action(words[0], words[1], tuple(words[2:]), fails_with)


def from_dict(doc: Any, source: str = "") -> Scenario:
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise ScenarioError(f"{source}: a scenario needs 'name' and a list of 'steps'")
    steps = []
    for i, text in enumerate(doc["steps"], 1):
        if not isinstance(text, str):
            raise ScenarioError(f"{source}: step {i} must be a string, not {text!r}")
        try:
            steps.append((text, parse_step(text)))
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: step {i}: {exc}") from None
    given = doc.get("parties") or {}
    if not isinstance(given, dict):
        raise ScenarioError(f"{source}: parties: a table of number: behaviour, not {given!r}")
    parties = {}
    for number, text in given.items():
        if not isinstance(number, str):
            raise ScenarioError(f"{source}: parties: quote the number {number!r} ('+49...')")
        try:
            parties[str(number)] = Behaviour.parse(str(text))
        except ValueError as exc:
            raise ScenarioError(f"{source}: parties: {number}: {exc}") from None
    reqs = doc.get("requirements", [])
    if isinstance(reqs, str):
        reqs = [reqs]
    if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs):
        raise ScenarioError(f"{source}: requirements: a list of names (CALL-01, ...), not {reqs!r}")
    return Scenario(
        name=str(doc.get("name", source)),
        requirements=tuple(reqs),
        steps=tuple(steps),
        parties=parties,
        source=source,
    )


def load(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:  # a ValueError, not the OSError phone-sim reports
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        doc = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except yaml.YAMLError as exc:  # its own text is several lines: one, with the place
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: not valid YAML: {problem}{where}") from None
    return from_dict(doc, str(path))
