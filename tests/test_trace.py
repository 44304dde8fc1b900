"""`cti trace CALL` (cti/tools/trace.py, specs/web.md#cti-trace): a call from the log as a
ladder diagram in SVG: devices as columns in the order they appear, every event of the call
and of the consultation call merged into it as a row in seq order, arrows from the device that
acts to the one it reaches, the switch's timers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from cti.app.clock import ManualClock
from cti.app.committed import decode
from cti.app.config import load_site
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.calls.records_db import CallRecordsDb
from cti.cli import main
from cti.store import SqliteStore
from cti.tools.trace import COLUMN, LEFT

NS = {"s": "http://www.w3.org/2000/svg"}


def run(node: Node, command: c.Command) -> dict[str, object]:
    outcome = node.execute(command)
    assert isinstance(outcome, Accepted), outcome
    return outcome.result  # type: ignore[return-value]


def records(tmp_path: Path, log: SqliteStore) -> None:
    db = CallRecordsDb(tmp_path / "node1.calls.db", log.epoch)
    db.apply([decode(r) for r in log.read(1)])
    db.close()


def test_a_consultation_and_transfer_drawn_as_one_ladder(tmp_path: Path) -> None:
    log = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), log, ManualClock())
    run(node, c.SetForwarding(device="331", forwarding_type="forwardNoAns", on=True,
                              destination="333", ring_time=10))  # fmt: skip
    call = run(node, c.MakeCall(calling="330", called="331"))["call"]
    run(node, c.AnswerCall(call=call, device="331"))
    consult = run(node, c.ConsultationCall(call=call, device="331", consulted="332"))["call"]
    run(node, c.AnswerCall(call=consult, device="332"))
    run(node, c.TransferCall(device="331"))
    run(node, c.ClearCall(call=call))
    other = run(node, c.MakeCall(calling="333", called="330"))["call"]  # not in the ladder
    run(node, c.ClearCall(call=other))
    expected = [
        item.seq
        for item in map(decode, log.read(1))
        if getattr(item.event, "call", None) in (call, consult)
    ]
    records(tmp_path, log)
    log.close()

    out = tmp_path / "call.svg"
    assert main(["trace", str(call), "--data-dir", str(tmp_path), "--out", str(out)]) == 0
    svg = ET.parse(out).getroot()
    devices = [t.text for t in svg.iterfind(".//s:text[@class='device']", NS)]
    assert devices == ["330", "331", "332"]
    rows = svg.findall("s:g[@class='event']", NS)
    assert [int(g.get("data-seq", "")) for g in rows] == expected
    labels = [g.find("s:text", NS).text or "" for g in rows]  # type: ignore[union-attr]
    kinds = [label.split()[3] for label in labels]
    assert kinds[:4] == ["serviceInitiated", "originated", "delivered", "timerSet"]
    assert "transferred" in kinds and kinds[-1] == "callCleared"
    assert labels[3].endswith("noAnswer due +10 s  [call 1]")  # the no-answer timer, then
    assert kinds[5] == "timerCleared"  # cleared when 331 answered: no forwarding to 333
    assert any(f"[call {consult}]" in label for label in labels)  # the merged consultation
    x = {d: LEFT + COLUMN // 2 + i * COLUMN for i, d in enumerate(devices)}
    transferred = rows[kinds.index("transferred")]
    line = transferred.find("s:line", NS)
    assert line is not None
    assert (int(line.get("x1", "")), int(line.get("x2", ""))) == (x["331"], x["332"])
    assert "333" not in devices  # the other call stays out
    [bar] = svg.findall("s:line[@class='timer']", NS)  # set at delivery, cleared on answer
    assert int(bar.get("y1", "")) < int(bar.get("y2", ""))


def test_an_unknown_call_is_an_error(tmp_path: Path, capsys: object) -> None:
    log = SqliteStore(tmp_path / "node1.db")
    node = Node(load_site(), log, ManualClock())
    run(node, c.MakeCall(calling="330", called="331"))
    records(tmp_path, log)
    log.close()
    assert main(["trace", "9", "--data-dir", str(tmp_path)]) == 1
