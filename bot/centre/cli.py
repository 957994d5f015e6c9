"""`bousla centre check`: is centre.yml usable, and is the centre open now?"""

from __future__ import annotations

import argparse
import sys

from bot.centre.config import CentreConfigError, parse_centre
from bot.settings import get_settings


def _centre_check(args: argparse.Namespace) -> int:
    path = args.file or get_settings().centre_file
    try:
        centre = parse_centre(path)
    except CentreConfigError as error:
        print(error, file=sys.stderr)
        return 1
    state = "ouvert" if centre.is_open() else f"fermé, réouverture {centre.when_open_phrase('fr')}"
    print(
        f"{path}: OK — {len(centre.emergency_contacts)} numéros d'urgence, "
        f"{len(centre.canned_replies)} réponses toutes prêtes; en ce moment : {state}."
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    centre = subparsers.add_parser("centre", help="check centre.yml (hours, emergency numbers)")
    centre_commands = centre.add_subparsers(dest="centre_command", metavar="ACTION")
    check = centre_commands.add_parser("check", help="check centre.yml and say if it is open")
    check.add_argument("file", nargs="?", default=None)
    check.set_defaults(handler=_centre_check)
    centre.set_defaults(handler=lambda args: centre.print_help() or 2)
