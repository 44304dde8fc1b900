"""The client examples people copy stay true: README.md's runs against a node and prints
what the README says; those of specs/client.md compile and import only what cti.client has."""

from __future__ import annotations

import ast
import asyncio
import re
import sys
from pathlib import Path

import cti.client
from cti.app.bootstrap import Running
from tests.client.conftest import url

REPO = Path(__file__).resolve().parents[2]
README_URL = "mqtt://127.0.0.1:1884"  # the port `make run` serves on


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.MULTILINE | re.DOTALL)


def readme_example() -> tuple[str, str]:
    """The code of README's "A UI client in Python" and the prose after it."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## A UI client in Python\n", 1)[1].split("\n## ", 1)[0]
    [code] = python_blocks(section)
    return code, section.split("```\n", 2)[-1]


async def test_the_readme_example_runs_and_prints_what_the_readme_says(node: Running) -> None:
    code, prose = readme_example()
    assert code.count(README_URL) == 1
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code.replace(README_URL, url(node)),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    lines = [line.split(" ", 1) for line in out.decode().splitlines()]
    seqs = [int(seq) for seq, _ in lines]
    assert seqs == sorted(set(seqs))
    printed = [rest for _, rest in lines]
    assert printed == [
        "serviceInitiated initiated",
        "originated connected",
        "delivered connected",
        "connectionCleared null",
    ]
    assert re.findall(r"`([a-zA-Z]+ [a-z]+)`", prose) == printed
    # Bernd hung up: his phone is idle again.
    async with cti.client.CtiClient(url(node), user="331", password="Bernd-2026!") as bernd:
        assert await bernd.request("snapshotDevice", device="331") == []


def test_the_examples_of_the_client_spec_compile_and_import_what_exists() -> None:
    blocks = python_blocks((REPO / "specs" / "client.md").read_text())
    assert len(blocks) >= 3
    for number, code in enumerate(blocks, 1):
        name = f"specs/client.md example {number}"
        compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)  # snippets await
        for names in re.findall(r"^from cti\.client import \(?([^)]*?)\)?$", code, re.M | re.S):
            for name in re.split(r"[\s,]+", names.strip()):
                assert name in cti.client.__all__, f"example {number}: no cti.client.{name}"
