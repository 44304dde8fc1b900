"""The operators' endpoint against a real node (cti.app.bootstrap.start, a private Mosquitto):
/healthz up and down with the failing part named, /metrics parsed with prometheus-client's own
parser after real requests, the free-disk warning on /healthz, the metrics and the retained
status document. Nothing sleeps for timing: every wait is for a condition."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cti.app.bootstrap import Running, ServeOptions, StartupError, start
from cti.app.clock import ManualClock
from cti.calls import commands as c
from cti.mqtt.broker import free_port
from cti.ops.disk import DiskUsage
from cti.ops.threshold import DiskThreshold
from cti.store import SqliteStore, StoreError
from tests.mqtt.conftest import (  # noqa: F401  (fixture)
    BASE,
    TIMEOUT,
    CtiClient,
    Mosquitto,
    Server,
    broker,
    servers,
    site_with_tester,
)

GiB = 2**30
OPERATIONS = Path(__file__).resolve().parents[2] / "specs" / "operations.md"


async def get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to the node's endpoint: (status, headers, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)  # the server closes
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    assert int(headers["content-length"]) == len(body)
    return int(status_line.split()[1]), headers, body


async def healthz(running: Running) -> tuple[int, dict[str, Any]]:
    assert running.http is not None
    status, headers, body = await get(running.http.address[1], "/healthz")
    assert headers["content-type"] == "application/json"
    return status, json.loads(body)


async def metrics(running: Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: {(name, sorted labels): value}."""
    assert running.http is not None
    status, headers, body = await get(running.http.address[1], "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[s.name, tuple(sorted(s.labels.items()))] = s.value
    return out


async def published(running: Running) -> None:
    """Until the broker has acknowledged everything committed (start() waits only for the
    connection, not for the outbox to catch up): each turn of the loop lets it go on."""
    async with asyncio.timeout(TIMEOUT):
        while running.mqtt.outbox.acked < running.node.state.seq:
            await asyncio.sleep(0)


@pytest.fixture
async def node(tmp_path: Path, broker: Mosquitto) -> AsyncIterator[Running]:  # noqa: F811
    options = ServeOptions(
        site=site_with_tester(tmp_path),
        data_dir=tmp_path / "data",
        mqtt_url=broker.url,
        csta_port=free_port(),
        http_port=free_port(),
    )
    running = await start(options)
    try:
        await published(running)
        yield running
    finally:
        await running.stop()


async def test_healthz_is_200_when_up_and_503_naming_mqtt_when_the_broker_dies(
    node: Running,
    broker: Mosquitto,  # noqa: F811
) -> None:
    status, doc = await healthz(node)
    assert status == 200, doc
    assert doc["status"] == "up" and doc["down"] == [] and doc["node"] == "node1"
    parts = doc["parts"]
    for name in ("engine", "store", "mqtt", "csta", "call-records", "journal", "disk-watch"):
        assert parts[name]["up"] is True and parts[name]["required"] is True, name
    assert parts["csta"]["associations"] == 0
    assert parts["call-records"]["lag"] == 0 and parts["journal"]["lag"] == 0
    assert doc["outbox"] == {"acked": node.node.state.seq, "lagEvents": 0, "lagSeconds": 0.0}
    assert doc["disk"]["low"] is False and doc["disk"]["thresholdBytes"] == GiB

    client = node.mqtt.client
    assert client is not None and client.closed is not None
    broker.kill()
    closed: asyncio.Future[object] = client.closed  # type: ignore[assignment]
    done, _ = await asyncio.wait([closed], timeout=TIMEOUT)  # the face saw it go
    assert done
    async with asyncio.timeout(TIMEOUT):
        while node.mqtt.connected.is_set():  # the face's clean-up runs next on the loop
            await asyncio.sleep(0)
    status, doc = await healthz(node)
    assert status == 503
    assert doc["status"] == "down" and doc["down"] == ["mqtt"]
    assert doc["parts"]["mqtt"]["up"] is False and doc["parts"]["engine"]["up"] is True
    samples = await metrics(node)
    assert samples["cti_mqtt_connected", ()] == 0
    assert samples["cti_part_up", (("part", "mqtt"),)] == 0

    await broker.start()  # the same port: the face reconnects with its back-off
    await asyncio.wait_for(node.mqtt.connected.wait(), TIMEOUT)
    status, doc = await healthz(node)
    assert status == 200 and doc["down"] == []


async def test_metrics_count_accepted_and_refused_requests(
    node: Running,
    broker: Mosquitto,  # noqa: F811
) -> None:
    before = await metrics(node)
    assert before["cti_commit_duration_seconds_count", ()] == 0
    async with CtiClient(broker.host, broker.port) as ui:
        await ui.ok("makeCall", calling="330", called="331")
        refused = await ui.request("answerCall", call=77, device="331")
        assert refused["error"]["code"] == "invalidCallID"
        await ui.ok("setDoNotDisturb", device="332", on=True)
    samples = await metrics(node)
    accepted = "cti_commands_accepted_total"
    assert samples[accepted, (("service", "makeCall"),)] == 1
    assert samples[accepted, (("service", "setDoNotDisturb"),)] == 1
    assert (
        samples[
            "cti_commands_refused_total", (("refusal", "invalidCallID"), ("service", "answerCall"))
        ]
        == 1
    )
    committed = node.node.state.seq - int(before["cti_log_seq", ()])
    assert committed > 0 and samples["cti_events_committed_total", ()] == committed
    assert samples["cti_log_seq", ()] == node.node.state.seq
    assert samples["cti_commit_duration_seconds_count", ()] >= 2  # a batch at least per request
    assert samples["cti_commit_duration_seconds_bucket", (("le", "+Inf"),)] >= 2
    assert samples["cti_outbox_lag_events", ()] >= 0
    assert samples["cti_mqtt_connected", ()] == 1
    assert samples["cti_csta_associations", ()] == 0
    assert samples["cti_disk_free_bytes", ()] > 0
    assert samples["cti_disk_low_threshold_bytes", ()] == GiB
    assert samples["cti_disk_low", ()] == 0
    assert samples["process_resident_memory_bytes", ()] > 0
    # specs/operations.md lists exactly the metrics there are.
    documented = set(re.findall(r"^\| `(cti_\w+)", OPERATIONS.read_text("utf-8"), re.M))
    exposed = set()
    for name, _ in samples:
        if name.startswith("cti_") and not name.endswith("_created"):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            exposed.add(base if base in documented else name)
    assert exposed == documented
    # Labels name services, refusals, parts and followers: never a number or an account.
    labels = {v for _, kv in samples for _, v in kv}
    assert not [v for v in labels if v.lstrip("+").isdigit() or v in ("tester", "330", "331")]


async def test_unknown_paths_and_methods_are_refused(node: Running) -> None:
    assert node.http is not None
    port = node.http.address[1]
    assert (await get(port, "/"))[0] == 404
    assert (await get(port, "/healthz", method="POST"))[0] == 405
    assert (await get(port, "/healthz?verbose=1"))[0] == 200
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"garbage\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), TIMEOUT)).startswith(b"HTTP/1.1 400 ")
    writer.close()


async def test_low_disk_shows_on_healthz_metrics_and_the_status_document(
    node: Running,
    broker: Mosquitto,  # noqa: F811
) -> None:
    free = {"bytes": 10 * GiB}
    node.disk.usage = lambda _: DiskUsage(total=100 * GiB, free=free["bytes"])
    async with CtiClient(broker.host, broker.port, filters=[f"{BASE}/status"]) as ui:
        await ui.wait_for(f"{BASE}/status", lambda d: d.get("diskLow") is False)
        free["bytes"] = GiB // 2  # below the default 1 GiB
        node.disk.check()
        status, doc = await healthz(node)
        assert status == 200, "a low disk is a warning, not a failure: restarting frees nothing"
        assert doc["disk"] == {
            "path": str(node.disk.path),
            "freeBytes": GiB // 2,
            "totalBytes": 100 * GiB,
            "thresholdBytes": GiB,
            "low": True,
        }
        samples = await metrics(node)
        assert samples["cti_disk_low", ()] == 1 and samples["cti_disk_free_bytes", ()] == GiB // 2
        status_doc = await ui.wait_for(f"{BASE}/status", lambda d: d.get("diskLow") is True)
        assert status_doc["state"] == "online"


async def test_a_busy_http_port_is_one_line(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = ServeOptions(
            data_dir=tmp_path / "data", mqtt_url=broker.url, csta_port=0, http_port=port
        )
        with pytest.raises(StartupError, match=f"HTTP endpoint: cannot listen on 127.0.0.1:{port}"):
            await start(options)
    SqliteStore(tmp_path / "data" / "node1.db").close()  # everything was stopped again


async def test_a_percentage_threshold_is_of_the_filesystem(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
) -> None:
    options = ServeOptions(
        data_dir=tmp_path / "data",
        mqtt_url=broker.url,
        csta_port=0,
        http_port=free_port(),
        disk_low=DiskThreshold.parse("5%"),
    )
    running = await start(options)
    try:
        running.disk.usage = lambda _: DiskUsage(total=200 * GiB, free=9 * GiB)
        status, doc = await healthz(running)
        assert status == 200
        assert doc["disk"]["thresholdBytes"] == 10 * GiB and doc["disk"]["low"] is True
        assert doc["parts"]["csta"] == {"up": False, "required": False}  # --csta-port 0
    finally:
        await running.stop()


async def test_cti_serve_takes_the_port_from_the_environment_and_names_the_endpoint(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
    servers: list[Server],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    monkeypatch.setenv("CTI_HTTP_PORT", str(port))
    monkeypatch.setenv("CTI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CTI_CSTA_PORT", "0")
    server = Server("--mqtt-url", broker.url)
    servers.append(server)
    await server.start()
    line = await server.wait_line(lambda text: "operations" in text)
    assert f"http://127.0.0.1:{port}/healthz and /metrics" in line
    await server.wait_line(lambda text: "Ctrl-C stops" in text)
    status, _, body = await get(port, "/healthz")
    assert status == 200 and json.loads(body)["parts"]["csta"]["required"] is False


async def test_the_outbox_lag_while_the_broker_is_away_and_a_store_that_refuses(
    tmp_path: Path,
    broker: Mosquitto,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = ManualClock()
    options = ServeOptions(
        data_dir=tmp_path / "data", mqtt_url=broker.url, csta_port=0, http_port=free_port()
    )
    running = await start(options, clock)
    try:
        await published(running)
        client = running.mqtt.client
        assert client is not None and client.closed is not None
        closed: asyncio.Future[object] = client.closed  # type: ignore[assignment]
        broker.kill()
        await asyncio.wait([closed], timeout=TIMEOUT)
        assert (await running.engine.execute(c.SetDoNotDisturb(device="330", on=True))).ok
        clock.advance(7)
        status, doc = await healthz(running)
        assert status == 503 and doc["down"] == ["mqtt"]
        assert doc["outbox"]["lagEvents"] == 1 and doc["outbox"]["lagSeconds"] == 7.0
        samples = await metrics(running)
        assert samples["cti_outbox_lag_events", ()] == 1
        assert samples["cti_outbox_lag_seconds", ()] == 7.0

        def full(*_: object) -> None:
            raise StoreError("database or disk is full")

        monkeypatch.setattr(running.store, "append", full)
        refused = await running.engine.execute(c.SetDoNotDisturb(device="330", on=False))
        assert not refused.ok and refused.error.name == "resourceOutOfService"
        _, doc = await healthz(running)
        assert doc["down"] == ["store", "mqtt"]
        assert doc["parts"]["store"] == {"up": False, "required": True, "error": "StoreError"}
        samples = await metrics(running)
        assert samples["cti_store_append_failures_total", ()] == 1
        assert (
            samples[
                "cti_commands_refused_total",
                (("refusal", "resourceOutOfService"), ("service", "setDoNotDisturb")),
            ]
            == 1
        )

        monkeypatch.undo()  # space freed: the next batch is stored, the store is up again
        assert (await running.engine.execute(c.SetDoNotDisturb(device="330", on=False))).ok
        _, doc = await healthz(running)
        assert doc["down"] == ["mqtt"]
    finally:
        await running.stop()
