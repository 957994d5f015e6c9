"""`bousla` console script: one sub-command per operational task.

Each area of the code base owns its sub-commands in its own module and exposes
`register(subparsers)`; this file only wires them together so that `bousla --help`
lists everything staff can run.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from pydantic import ValidationError

# Modules that provide `register(subparsers)`. Imported lazily so that `bousla --help`
# does not pay for Rasa or TensorFlow imports.
COMMAND_MODULES = [
    "bot.ops.run",
    "bot.ops.training",
    "bot.catalog.cli",
    "bot.dashboard.cli",
    "bot.centre.cli",
    "bot.ops.bench",
    "bot.privacy.cli",
    "bot.ops.nlu_eval",
    "bot.report.cli",
    "bot.ops.scale.cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bousla",
        description="Bousla: operational commands for the listening-and-orientation cell.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name == module_name:
                continue  # area not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ValidationError as error:  # the settings: one sentence, not a traceback
        for problem in error.errors():
            print(f"Bousla: {problem['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
