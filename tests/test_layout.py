"""The layout the architecture promises (specs/architecture.md): pure contexts over a small
kernel, the faces on the transport-neutral API, no face depending on another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CTI = Path(__file__).resolve().parents[1] / "cti"
PURE = [
    "kernel",
    "site",
    "domain",
    "calls",
    "accounts",
    "favourites",
    "presence",
    "directory",
    "journal",
    "voicemail",
    "chat",
]  # no I/O, no clock, no asyncio
IO_MODULES = {
    "calls/records_db.py",
    "directory/index_db.py",
    "journal/journal_db.py",
    "voicemail/audio_db.py",
    "voicemail/mail_outbox.py",
    "voicemail/audio_sweep.py",  # removes files no message refers to (a follower)
    "chat/chat_db.py",  # the chat's own store and its writer (specs/chat.md)
}  # a context's read-model storage, named *_db.py
FORBIDDEN = {
    "asyncio",
    "sqlite3",
    "socket",
    "time",
    "threading",
    "subprocess",
    "aiomqtt",
    "structlog",
    "cti.app",
    "cti.api",
    "cti.mqtt",
    "cti.csta",
    "cti.store",
    "cti.tools",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((CTI / package).rglob("*.py"))


@pytest.mark.parametrize("package", PURE)
def test_the_domain_is_pure(package: str) -> None:
    for path in modules(package):
        if str(path.relative_to(CTI)) in IO_MODULES:
            continue
        bad = {m for m in imports(path) if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN}
        bad |= {m for m in imports(path) for f in FORBIDDEN if m.startswith(f + ".")}
        assert not bad, f"{path.relative_to(CTI)} imports {sorted(bad)}"


@pytest.mark.parametrize("face", ["csta", "mqtt/client", "client"])
def test_faces_and_clients_do_not_use_the_mqtt_face(face: str) -> None:
    """The CSTA link, the CSTA client and our MQTT client use cti.api, never the MQTT face."""
    for path in modules(face):
        assert not {m for m in imports(path) if m.startswith("cti.mqtt.face")}, path


def test_phone_sim_uses_the_api_not_the_faces() -> None:
    sim = CTI.parent / "phone_sim"
    for path in sorted(sim.rglob("*.py")):
        bad = {m for m in imports(path) if m.startswith(("cti.mqtt.face", "cti.csta.link"))}
        assert not bad, f"{path.relative_to(sim.parent)} imports {sorted(bad)}"


def test_each_context_is_one_folder_with_a_context_module() -> None:
    for context in ("calls", "accounts", "favourites", "presence", "journal"):
        assert (CTI / context / "context.py").exists(), context
