"""The ``phone-sim`` command line: scenarios, load, a console phone, physical phones."""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from cti import log
from cti.mqtt.client import ConnectionLost, ConnectionRefused, SubscriptionRefused, endpoint
from cti.mqtt.topics import Topics
from cti.ops.environment import LOG_LEVELS, at_least, checked, choice, positive
from cti.tools.options import shared_options
from cti.tools.request import exit_code, in_words
from phone_sim.link.base import Interrupted, NoStatus, Unreachable
from phone_sim.link.mqtt import DEFAULT_USER


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phone-sim", description="Simulated phones for a running `cti serve` (over MQTT)."
    )
    shared = shared_options(parser, _shared)  # before or after the subcommand, as cti's
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", parents=[shared], help="run scenario files (YAML/TOML) against the node"
    )
    run.add_argument("files", nargs="+", type=Path)
    load = sub.add_parser(
        "load", parents=[shared], help="generate a realistic call mix and report rate/latency"
    )
    load.add_argument(
        "--devices",
        type=checked(at_least(2)),
        default=20,
        help="parties taking part, 2 or more (default 20)",
    )
    load.add_argument(
        "--calls-per-second",
        type=checked(positive),
        default=5.0,
        help="flows started per second (default 5)",
    )
    load.add_argument(
        "--duration", type=checked(positive), default=30.0, help="seconds (default 30)"
    )
    load.add_argument("--seed", type=int, default=None, help="repeatable call mix")
    console = sub.add_parser(
        "console", parents=[shared], help="one phone in the terminal: display, LEDs, keys"
    )
    console.add_argument("number", help="the phone's number, e.g. 330")
    phones = sub.add_parser(
        "phones",
        parents=[shared],
        help="host phones whose hook/dial/keys and display/LEDs are MQTT topics",
    )
    phones.add_argument("numbers", nargs="*", help="phones to host (default: every phone)")
    return parser


def _shared(parser: argparse.ArgumentParser) -> None:
    """The broker, the node and the logging: options of phone-sim and of each subcommand."""
    endpoint.add_arguments(parser, user=DEFAULT_USER)
    parser.add_argument(
        "--node",
        action="append",
        default=None,
        help="node name (base topic cti/NODE; default node1); `load` takes several "
        "(repeat --node) and drives them at once; a {node} in --user stands for each",
    )
    parser.add_argument(
        "--log-level",
        type=checked(choice(*LOG_LEVELS)),
        default="warning",
        help="debug, info, warning, error or critical",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log.configure(level=args.log_level)
    console = Console(stderr=False, highlight=False)
    # Errors: one line each on stderr, never wrapped at the terminal's width.
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    nodes: list[str] = list(dict.fromkeys(args.node or ["node1"]))
    if len(nodes) > 1 and args.command != "load":
        errors.print(f"[red]phone-sim {args.command} drives one node: give one --node[/]")
        return 2
    try:
        brokers = {node: endpoint.from_arguments(args, node=node) for node in nodes}
    except ValueError as exc:
        errors.print(f"[red]phone-sim: {escape(str(exc))}[/]")
        return 2
    node = nodes[0]
    broker = brokers[node]
    try:
        if args.command == "run":
            from phone_sim.runner import run_files

            return asyncio.run(run_files(broker, node, args.files, console))
        if args.command == "load":
            from phone_sim.load import LoadPlan, run_load

            if not math.isfinite(args.calls_per_second * args.duration):
                errors.print("[red]phone-sim: --calls-per-second times --duration is too large[/]")
                return 2
            plan = LoadPlan(args.devices, args.calls_per_second, args.duration, args.seed)
            return asyncio.run(run_load(brokers, plan, console))
        if args.command == "console":
            from phone_sim.console import run_console

            return asyncio.run(run_console(broker, node, args.number, console))
        from phone_sim.physical import run_phones

        return asyncio.run(run_phones(broker, node, args.numbers, console))
    except Unreachable as exc:  # at the start: nothing has run yet
        errors.print(
            f"[red]phone-sim: cannot reach the node's broker at {args.mqtt_url}: "
            f"{escape(in_words(exc.cause))}[/]"
        )
        return 3
    except ConnectionRefused as exc:  # at the start: told by its reason code
        # The account the refused CONNECT carried: with several --node, maybe not the first's.
        user = exc.user or broker.username
        who = f"refused {user}" if exc.credentials else "would not take the connection"
        errors.print(f"[red]phone-sim: the broker at {args.mqtt_url} {who}: {escape(str(exc))}[/]")
        return exit_code(exc)
    except NoStatus as exc:  # at the start: no node there, nothing ran
        for silent, state in exc.states.items():
            line = no_status(silent, state, args.mqtt_url)
            errors.print(f"[red]phone-sim: {escape(line)}[/]")
        # As `cti request` given a node that does not answer: no reply (specs/phone-sim.md).
        return 1
    except SubscriptionRefused as exc:  # a ConnectionError, but the broker answered: its ACL
        line = subscription_refused(exc, args.mqtt_url, nodes)
        errors.print(f"[red]phone-sim: {escape(line)}[/]")
        return exit_code(exc)
    except Interrupted as exc:  # after the start, with what was going on
        line = interrupted(exc, node, args.mqtt_url, broker.username)
        errors.print(f"[red]phone-sim: {escape(line)}[/]")
        return _exit_code(exc.cause)
    except BrokenPipeError as exc:  # a ConnectionError, but of our output's reader
        errors.print(f"[red]phone-sim: {escape(_os_error(exc))}[/]")
        return 1
    except (ConnectionError, TimeoutError) as exc:  # after the start, where no step was going
        doing = DOING[args.command].format(node=node, number=getattr(args, "number", ""))
        line = interrupted(Interrupted(doing, exc), node, args.mqtt_url, broker.username)
        errors.print(f"[red]phone-sim: {escape(line)}[/]")
        return _exit_code(exc)
    except OSError as exc:  # anything else of the machine's: a file, the terminal
        errors.print(f"[red]phone-sim: {escape(_os_error(exc))}[/]")
        return 1
    except KeyboardInterrupt:
        return 130


#: What a command was doing when a connection error reached main() without a step's context.
DOING = {
    "run": "running the scenarios on node {node}",
    "load": "the load run",
    "console": "the console of {number}",
    "phones": "hosting the phones of node {node}",
}


def _os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _exit_code(cause: BaseException) -> int:
    """The exit code of `cti request` for what broke a run off (cti/tools/request.py): 1 the
    broker refused (a request's publish, a subscription) or no reply, 3 the connection lost
    or refused. After the start a TimeoutError is a reply that did not come, `cti request`'s
    NoReply (there it is a connect's: no broker)."""
    return 1 if isinstance(cause, TimeoutError) else exit_code(cause)


def _publish_refused(exc: BaseException) -> bool:
    """The broker refused a request's publish (its ACL: only our node's topics are open) and
    so ended the connection: the PUBACK's reason code, which the ConnectionLost carries."""
    return isinstance(exc, ConnectionLost) and exc.refused is not None


def subscription_refused(exc: SubscriptionRefused, url: str, nodes: list[str]) -> str:
    """The broker took the connection but refused a subscription at the start (its ACL, NATS
    permissions: an account may read its own node's topics only), in one line naming the
    topics and the node they are of."""
    node = next(
        (n for n in nodes if all(t.startswith(f"{Topics(n).base}/") for t in exc.topics)), None
    )
    hint = f": is --node {node} right?" if node is not None else ""
    return f"the broker at {url} refused the subscription to {', '.join(exc.topics)}{hint}"


def no_status(node: str, state: str | None, url: str) -> str:
    """A node without an online status at the start, in one line: none published (asked as
    `run` asks, no reply: is it running?, and a refused subscription, is --node right?), or
    its own last word (``state``: "offline", a stopped node)."""
    topic = Topics(node).status
    if state is not None:
        return (
            f"node {node} is {state} (its status, {topic}, on the broker at {url}): is it running?"
        )
    return (
        f"node {node} publishes no status ({topic}) on the broker at {url}: "
        f"is --node {node} right? is it running?"
    )


def interrupted(exc: Interrupted, node: str, url: str, user: str | None) -> str:
    """A run broken off after the start, in one line saying what was going on."""
    cause, doing = exc.cause, exc.doing
    if _publish_refused(cause):
        return (
            f"the broker refused a request to node {node}: is --node {node} right? "
            f"(while {doing}: {cause})"
        )
    if isinstance(cause, ConnectionRefused):  # the connection was lost, the reconnect refused
        who = cause.user or user
        return f"the broker at {url} refused {who} on reconnecting while {doing}: {cause}"
    if isinstance(cause, TimeoutError):
        return f"no reply from node {node} while {doing}: is it running?"
    if isinstance(cause, SubscriptionRefused):  # granted before: not a wrong --node
        topics = ", ".join(cause.topics)
        return f"the broker at {url} refused the subscription to {topics} while {doing}"
    return f"lost the connection to the node's broker at {url} while {doing}: {cause}"


if __name__ == "__main__":
    sys.exit(main())
