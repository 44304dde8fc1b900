"""In-process microbenchmark of the CALL-12 buttons and the device view (issue 19 item 5).

Not a section of ``python -m bench``: it runs in one process on one core, with no broker and
no store I/O, so it can run beside other work. ``python -m bench.device_views`` prints, per
repetition, the mean CPU time (of the process) of one ``allowed_services`` call and of one
``cti.calls.views.device_view`` call over every connection / every busy device of a site of
200 phones (bench/office.py) in which calls ring, talk, hold and consult, as the outbox
computes them for the retained device states.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from bench.office import big_site, pair
from cti.app.clock import ManualClock
from cti.app.node import Accepted, Node
from cti.calls import commands as c
from cti.calls.services.allowed import allowed_services
from cti.calls.views import device_view
from cti.store import MemoryStore

PHONES = 200


def _call(node: Node, command: c.Command) -> int:
    outcome = node.execute(command)
    assert isinstance(outcome, Accepted), f"{command!r}: {outcome}"
    call = outcome.result["call"]
    assert isinstance(call, int)
    return call


def busy_site() -> Node:
    """200 phones: 20 pairs ringing, 30 talking, 10 with the caller holding its call; 10
    trios where the caller consults a third phone that rings, 10 where it has answered (a
    held and an active call at one device: the two-call services), 5 three-party conferences;
    5 phones stay idle."""
    node = Node(big_site(PHONES), MemoryStore(), ManualClock())
    free = [n for i in range(PHONES // 2) for n in pair(i)]

    def two() -> tuple[str, str]:
        return free.pop(0), free.pop(0)

    for _ in range(20):
        a, b = two()
        _call(node, c.MakeCall(calling=a, called=b))
    for _ in range(30):
        a, b = two()
        call = _call(node, c.MakeCall(calling=a, called=b))
        _call(node, c.AnswerCall(call=call, device=b))
    for _ in range(10):
        a, b = two()
        call = _call(node, c.MakeCall(calling=a, called=b))
        _call(node, c.AnswerCall(call=call, device=b))
        assert node.execute(c.HoldCall(call=call, device=a)).ok
    for answered, conference, trios in ((False, False, 10), (True, False, 10), (True, True, 5)):
        for _ in range(trios):
            a, b = two()
            x = free.pop(0)
            call = _call(node, c.MakeCall(calling=a, called=b))
            _call(node, c.AnswerCall(call=call, device=b))
            consult = _call(node, c.ConsultationCall(call=call, device=a, consulted=x))
            if answered:
                _call(node, c.AnswerCall(call=consult, device=x))
            if conference:
                assert node.execute(c.ConferenceCall(device=a)).ok
    return node


def _mean_ns(fn: Callable[[], None], calls_per_round: int, rounds: int) -> float:
    # CPU time of this process, not wall time: the machine is shared, and time spent waiting
    # for a core is not the cost of the code.
    start = time.process_time_ns()
    for _ in range(rounds):
        fn()
    return (time.process_time_ns() - start) / (rounds * calls_per_round)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=200, help="passes over the site per rep")
    args = parser.parse_args()
    node = busy_site()
    site, state = node.site, node.state
    switch = state.calls
    connections = [(party.device, call) for call in switch.calls.values() for party in call.parties]
    busy = sorted({device for device, _ in connections})
    offered = sum(len(allowed_services(site, switch, d, call)) for d, call in connections)
    print(
        f"{len(switch.calls)} calls, {len(connections)} connections on {len(busy)} devices, "
        f"{offered} services offered in all"
    )

    def buttons() -> None:
        for device, call in connections:
            allowed_services(site, switch, device, call)

    def views() -> None:
        for device in busy:
            device_view(site, state, device)

    per_button, per_view = [], []
    for rep in range(args.repetitions):
        per_button.append(_mean_ns(buttons, len(connections), args.rounds))
        per_view.append(_mean_ns(views, len(busy), args.rounds))
        print(
            f"rep {rep + 1}: allowed_services {per_button[-1] / 1000:.2f} µs/call, "
            f"device_view {per_view[-1] / 1000:.2f} µs/call"
        )
    for label, fn in (("median", statistics.median), ("min", min)):
        print(
            f"{label} of {args.repetitions}: allowed_services {fn(per_button) / 1000:.2f} "
            f"µs/call, device_view {fn(per_view) / 1000:.2f} µs/call"
        )


if __name__ == "__main__":
    main()
