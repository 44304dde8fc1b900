"""Every `cti ...` and `phone-sim ...` command line in a code block of README.md and
specs/*.md is one the command line takes: its subcommand exists and its options are spelled
and valued as documented (what each does is tested where it is implemented)."""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest

from cti.accounts.model import Role
from cti.app.config import load_config
from cti.cli import build_parser as cti_parser
from phone_sim.cli import build_parser as phone_sim_parser

REPO = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A command as typed: variables before it, the virtualenv's bin/, a prompt in a transcript.
COMMAND = re.compile(r"^(?:\$ )?(?:[A-Z_]+=\S+ )*(?:\.venv/bin/)?(cti|phone-sim) (.+)$")
PLACEHOLDERS = {'"$DB"': "postgresql://cti@db/cti"}  # the shell variable of an example
PARSERS: dict[str, Callable[[], argparse.ArgumentParser]] = {
    "cti": cti_parser,
    "phone-sim": phone_sim_parser,
}


def documented() -> list[tuple[str, str, str]]:
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "specs").glob("*.md"))]:
        for block in FENCE.findall(path.read_text("utf-8")):
            for line in block.replace("\\\n", " ").splitlines():
                match = COMMAND.match(line.strip())
                if match is None:
                    continue
                prog, rest = match.groups()
                first = rest.split()[0]
                if first.endswith(":") or (prog == "cti" and first == "node"):
                    continue  # what a command prints, not a command
                rest = re.split(r"\s#\s", rest)[0]  # a comment after the command
                for name, value in PLACEHOLDERS.items():
                    rest = rest.replace(name, value)
                found.append((path.relative_to(REPO).as_posix(), prog, rest))
    return found


COMMANDS = documented()


def test_the_docs_show_every_command() -> None:
    shown = {(prog, rest.split()[0]) for _, prog, rest in COMMANDS}
    assert {("cti", "serve"), ("cti", "request"), ("cti", "csta"), ("cti", "archive")} <= shown
    assert len(COMMANDS) >= 30


@pytest.mark.parametrize(
    ("where", "prog", "rest"), COMMANDS, ids=[f"{w}: {p} {r[:40]}" for w, p, r in COMMANDS]
)
def test_a_documented_command_parses(
    where: str, prog: str, rest: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        PARSERS[prog]().parse_args(shlex.split(rest))
    except SystemExit:
        pytest.fail(f"{where}: `{prog} {rest}`: {capsys.readouterr().err.splitlines()[-1]}")


def test_the_load_site_lets_phone_sim_sign_in() -> None:
    """README's load run (`cti serve --site cti/sites/load.toml`, then `phone-sim ... load`):
    phone-sim signs in as the integrator phone-sim with the example office's password, so
    the load site has that account too (without it the broker refuses phone-sim)."""
    sites = REPO / "cti" / "sites"
    example = {u.name: u for u in load_config(sites / "example.toml").users}["phone-sim"]
    loaded = {u.name: u for u in load_config(sites / "load.toml").users}
    account = loaded["phone-sim"]
    assert account.role is Role.INTEGRATOR and not account.must_change
    assert account.password == example.password
