"""Options a command group shares with its subcommands (`cti calls`, `cti users`, `phone-sim`):
given before or after the subcommand alike, ``cti calls --data-dir X show 1`` as
``cti calls show 1 --data-dir X``."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from typing import Any

#: The actions that collect every value given (``--node a --node b``), not keep the last.
_COLLECTING = (argparse._AppendAction, argparse._AppendConstAction, argparse._ExtendAction)


def shared_options(
    group: argparse.ArgumentParser, add: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    """Add the options ``add`` makes to ``group`` (with their defaults) and return a parent
    parser for each of its subcommands (``parents=[...]``) with the same options and help.
    Call it before ``group.add_subparsers``.

    The subcommands' copies default to ``argparse.SUPPRESS``: argparse parses a subcommand
    into a namespace of its own and copies every value in it over the group's, so a default
    there would overwrite a value given before the subcommand. Given on both sides, the one
    after the subcommand wins, as the later of a repeated option does; a repeatable option
    (``action="append"``, ``--node a sub --node b``) collects the values of both sides, those
    before the subcommand first, as it would on one side (the copy over the group's would
    keep only those after)."""
    known = len(group._actions)
    add(group)
    collecting = frozenset(a.dest for a in group._actions[known:] if isinstance(a, _COLLECTING))
    if collecting:
        # add_subparsers makes its action from the group's registry: this one collects.
        group.register("action", "parsers", functools.partial(_Subcommands, collecting))
    parent = argparse.ArgumentParser(add_help=False)
    add(parent)
    for action in parent._actions:
        action.default = argparse.SUPPRESS
    return parent


class _Subcommands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """argparse's subcommand action, but the values of the repeatable options ``collecting``
    given before the subcommand are kept ahead of those given after it."""

    def __init__(self, collecting: frozenset[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collecting = collecting

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        defaults = {a.dest: a.default for a in parser._actions}
        # Given before the subcommand: a list of its own, not the option's default (which a
        # value given after would otherwise be added to, a default repeated).
        before = {
            dest: getattr(namespace, dest)
            for dest in self._collecting
            if isinstance(getattr(namespace, dest, None), list)
            and getattr(namespace, dest) is not defaults.get(dest)
        }
        super().__call__(parser, namespace, values, option_string)
        for dest, given in before.items():
            after = getattr(namespace, dest)
            if after is not given:  # given after the subcommand too: a list of its own
                setattr(namespace, dest, [*given, *after])
