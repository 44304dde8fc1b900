"""CPU per message of our MQTT client (cti/mqtt/client/), publisher and receiver apart
(issue 19 item 5): ``python -m bench.client_cpu [--messages N] [--callgrind]``.

A private mosquitto on loopback with the embedded broker's tuning (Receive Maximum 1000,
TCP_NODELAY), one subscriber process (``#`` at QoS 1, counting what arrives) and one publisher
process that publishes as the node's outbox does: batches of ``--batch`` QoS 1 messages (300
bytes, on 64 topics), only the last of each with an ack callback, at most 20,000 in flight
(the outbox's MAX_INFLIGHT; beyond the broker's 1,000 they wait in the client), yielding to
the event loop between batches. Each process measures its own CPU time
(``time.process_time``: user + system, all threads) from the first publish / while receiving
until the last PUBACK / message, and prints it per message.

``--callgrind`` runs both processes under ``valgrind --tool=callgrind`` twice, with N and 2N
messages, and prints the difference of their instruction counts divided by N: instructions per
message with start-up and connection set-up cancelled out, which the shared machine's load
does not disturb (callgrind counts instructions executed in user space, not the kernel's).

The publisher uses ``MqttClient.publish_many`` when the client has it and ``--api many``
(the default) is given, else one ``publish`` per message (``--api single``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cti.mqtt.broker import TUNING, free_port, mosquitto_binary, wait_listening
from cti.mqtt.client import MqttClient
from cti.mqtt.client import protocol as p

PAYLOAD = b"x" * 300
TOPICS = [f"cti/node1/devices/{330 + i}/events" for i in range(64)]
MAX_INFLIGHT = 20_000  # cti/mqtt/face/outbox.py


async def publisher(port: int, n: int, batch: int, api: str) -> dict[str, float]:
    client = MqttClient("127.0.0.1", port, "bench-pub")
    await client.connect()
    acked = 0
    progress = asyncio.Event()
    many = api == "many" and hasattr(client, "publish_many")

    def on_ack() -> None:
        nonlocal acked
        acked += 1
        progress.set()

    batches = n // batch
    messages = [
        [(TOPICS[(b * batch + i) % 64], PAYLOAD, False) for i in range(batch)] for b in range(64)
    ]
    cpu, wall, times = time.process_time(), time.perf_counter(), os.times()
    for b in range(batches):
        items = messages[b % 64]
        if many:
            client.publish_many(items, on_ack=on_ack)  # type: ignore[attr-defined]
        else:
            *rest, (topic, body, retain) = items
            for t, pl, r in rest:
                client.publish(t, pl, retain=r)
            client.publish(topic, body, retain=retain, on_ack=on_ack)
        await asyncio.sleep(0)
        while client.inflight > MAX_INFLIGHT:
            progress.clear()
            await progress.wait()
    while acked < batches:
        progress.clear()
        await progress.wait()
    cpu, wall, end = time.process_time() - cpu, time.perf_counter() - wall, os.times()
    await client.disconnect()
    user, system = end.user - times.user, end.system - times.system
    return {"cpu": cpu, "wall": wall, "user": user, "sys": system, "messages": batches * batch}


async def subscriber(port: int, n: int) -> dict[str, float]:
    done = asyncio.Event()
    got = 0
    started = [0.0, 0.0]
    times = os.times()

    def count(_m: p.Message) -> None:
        nonlocal got, times
        if got == 0:
            started[:] = [time.process_time(), time.perf_counter()]
            times = os.times()
        got += 1
        if got == n:
            done.set()

    client = MqttClient("127.0.0.1", port, "bench-sub", on_message=count)
    await client.connect()
    await client.subscribe([("cti/node1/#", 1)])
    print("ready", flush=True)
    await asyncio.wait_for(done.wait(), 600)
    cpu, wall = time.process_time() - started[0], time.perf_counter() - started[1]
    end = os.times()
    await client.disconnect()
    user, system = end.user - times.user, end.system - times.system
    return {"cpu": cpu, "wall": wall, "user": user, "sys": system, "messages": n}


def _child(args: list[str], valgrind: Path | None) -> subprocess.Popen[str]:
    prefix: list[str] = []
    if valgrind is not None:
        prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={valgrind}"]
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "bench.client_cpu", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if valgrind is not None else None,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def _instructions(out: Path) -> int:
    match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
    assert match, f"no totals in {out}"
    return int(match.group(1))


async def one_run(
    port: int, n: int, batch: int, api: str, tmp: Path | None
) -> tuple[dict[str, float], dict[str, float]]:
    sub = _child(
        ["--role", "sub", "--port", str(port), "--messages", str(n)], tmp and tmp / "sub.out"
    )
    assert sub.stdout is not None
    line = await asyncio.to_thread(sub.stdout.readline)
    assert line.strip() == "ready", line
    pub = _child(
        [
            "--role",
            "pub",
            "--port",
            str(port),
            "--messages",
            str(n),
            "--batch",
            str(batch),
            "--api",
            api,
        ],
        tmp and tmp / "pub.out",
    )
    pub_out, _ = await asyncio.to_thread(pub.communicate)
    sub_out, _ = await asyncio.to_thread(sub.communicate)
    pub_result, sub_result = json.loads(pub_out), json.loads(sub_out.splitlines()[-1])
    if tmp is not None:
        pub_result["ir"] = _instructions(tmp / "pub.out")
        sub_result["ir"] = _instructions(tmp / "sub.out")
    return pub_result, sub_result


async def main(args: argparse.Namespace) -> None:
    binary = mosquitto_binary()
    assert binary, "mosquitto is needed (apt-get install -y mosquitto)"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        conf = tmp / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{TUNING}"
        )
        broker = subprocess.Popen([binary, "-c", str(conf)], stderr=subprocess.DEVNULL)
        try:
            await wait_listening("127.0.0.1", port)
            n, batch = args.messages // args.batch * args.batch, args.batch
            if not args.callgrind:
                for _ in range(args.repeat):
                    pub, sub = await one_run(port, n, batch, args.api, None)
                    print(
                        f"{n} messages, api {args.api}: CPU µs/message (user + system): "
                        f"publisher {1e6 * pub['cpu'] / n:.2f} ({1e6 * pub['user'] / n:.1f} + "
                        f"{1e6 * pub['sys'] / n:.1f}, {n / pub['wall']:,.0f} msg/s), receiver "
                        f"{1e6 * sub['cpu'] / n:.2f} ({1e6 * sub['user'] / n:.1f} + "
                        f"{1e6 * sub['sys'] / n:.1f})",
                        flush=True,
                    )
                return
            small = await one_run(port, n, batch, args.api, tmp)
            big = await one_run(port, 2 * n, batch, args.api, tmp)
            for role, a, b in (("publisher", small[0], big[0]), ("receiver", small[1], big[1])):
                print(
                    f"{role}: {(b['ir'] - a['ir']) / n:,.0f} instructions/message (api {args.api})"
                )
        finally:
            broker.terminate()
            broker.wait()


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--api", choices=["many", "single"], default="many")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--role", choices=["pub", "sub"])
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.role is not None:
        role = (
            publisher(args.port, args.messages, args.batch, args.api)
            if args.role == "pub"
            else subscriber(args.port, args.messages)
        )
        profile = os.environ.get("BENCH_PROFILE")  # a directory: cProfile each role there
        if profile:
            profiler = cProfile.Profile()
            result = profiler.runcall(asyncio.run, role)
            profiler.dump_stats(Path(profile) / f"{args.role}.prof")
        else:
            result = asyncio.run(role)
        print(json.dumps(result))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
