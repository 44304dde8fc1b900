"""Options a command group shares with its subcommands (`cti calls`, `cti users`): given
before or after the subcommand alike, ``cti calls --data-dir X show 1`` as
``cti calls show 1 --data-dir X``."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def shared_options(
    group: argparse.ArgumentParser, add: Callable[[argparse.ArgumentParser], None]
) -> argparse.ArgumentParser:
    """Add the options ``add`` makes to ``group`` (with their defaults) and return a parent
    parser for each of its subcommands (``parents=[...]``) with the same options and help.

    The subcommands' copies default to ``argparse.SUPPRESS``: argparse parses a subcommand
    into a namespace of its own and copies every value in it over the group's, so a default
    there would overwrite a value given before the subcommand. Given on both sides, the one
    after the subcommand wins, as the later of a repeated option does."""
    add(group)
    parent = argparse.ArgumentParser(add_help=False)
    add(parent)
    for action in parent._actions:
        action.default = argparse.SUPPRESS
    return parent
