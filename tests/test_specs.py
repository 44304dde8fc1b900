"""specs/call-model.md stays true: every sequence block in it is run against the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cti.calls import commands
from cti.calls.routing import RULES
from cti.calls.values import ForwardingType, TimerPurpose
from tests.office import Office

SPEC = Path(__file__).resolve().parent.parent / "specs" / "call-model.md"
BLOCK = re.compile(
    r"^#### (?P<title>.+?)\n\n(?:Given (?P<given>.+?)(?P<later>, 10 s later)?  \n)?"
    r"Request `(?P<request>[^`]+)`.*?\n\n```text\n(?P<events>.*?)```",
    re.MULTILINE | re.DOTALL,
)
NAMESPACE = {
    **{name: getattr(commands, name) for name in dir(commands) if name[0].isupper()},
    "ForwardingType": ForwardingType,
    "TimerPurpose": TimerPurpose,
}
EXAMPLES = [m.groupdict() for m in BLOCK.finditer(SPEC.read_text("utf-8"))]


def test_the_spec_has_a_sequence_for_every_client_service() -> None:
    requested = {e["request"].split("(")[0] for e in EXAMPLES}
    services = {cls.__name__ for cls in commands.COMMAND_TYPES.values()}
    assert services <= requested, services - requested
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_sequence_in_the_spec_is_what_the_engine_does(example: dict[str, str]) -> None:
    office = Office()
    for given in re.findall(r"`([^`]+)`", example["given"] or ""):
        office.do(eval(given, NAMESPACE))
    if example["later"]:
        office.clock.advance(10)
    events = office.do(eval(example["request"], NAMESPACE))
    assert events == example["events"].strip().splitlines()


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")
PYTHON_EXAMPLE = re.compile(
    r"### Example: a node in Python.*?```python\n(?P<code>.*?)```.*?```text\n(?P<output>.*?)```",
    re.DOTALL,
)


def test_the_python_example_prints_what_the_spec_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    match = PYTHON_EXAMPLE.search(SPEC.read_text("utf-8"))
    assert match is not None, "the Python example of call-model.md is gone"
    exec(compile(match["code"], "call-model.md", "exec"), {})  # our own spec
    # What the example prints, not the node's log lines (a timestamp, then the level).
    printed = [line for line in capsys.readouterr().out.splitlines() if not LOG_LINE.match(line)]
    assert printed == match["output"].strip().splitlines()


def test_the_routing_rules_are_listed_in_the_spec_in_their_order() -> None:
    section = SPEC.read_text("utf-8").split("### How an offered call is routed")[1]
    section = section.split("\n## ")[0].split("\nA forwarding is not followed")[0]
    named = re.findall(r"\(`([a-z_]+)`", section)
    assert named == [rule.__name__ for rule in RULES]
