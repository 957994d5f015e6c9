"""`bousla user ...`: the counsellor accounts of the dashboard."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise SystemExit("No terminal to ask the password: use --password-stdin.")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("The two passwords differ.")
    return first


def _account(session: Any, name: str, command: str) -> Any:
    """The account called `name`, or None (said on standard error)."""
    from bot.dashboard.accounts import get_by_username

    counsellor = get_by_username(session, username=name)
    if counsellor is None:
        print(f"{command}: no account {name!r}", file=sys.stderr)
    return counsellor


def _user_add(args: argparse.Namespace) -> int:
    from bot.dashboard.accounts import AccountError, create_counsellor
    from bot.storage.db import session_scope, upgrade_database

    password = _read_password(args)
    upgrade_database()
    try:
        with session_scope() as session:
            counsellor = create_counsellor(
                session,
                username=args.name,
                password=password,
                role=args.role,
                display_name=args.display_name,
                actor="cli",
            )
            print(f"Account {counsellor.username!r} created ({counsellor.role}).")
    except AccountError as error:
        print(f"bousla user add: {error}", file=sys.stderr)
        return 1
    return 0


def _user_password(args: argparse.Namespace) -> int:
    from bot.dashboard.accounts import AccountError, set_password
    from bot.storage.db import session_scope, upgrade_database

    password = _read_password(args)
    upgrade_database()
    try:
        with session_scope() as session:
            counsellor = _account(session, args.name, "bousla user password")
            if counsellor is None:
                return 1
            set_password(session, counsellor=counsellor, password=password, actor="cli")
    except AccountError as error:
        print(f"bousla user password: {error}", file=sys.stderr)
        return 1
    print(f"Password of {args.name!r} changed; its open sessions are closed.")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    from bot.dashboard.accounts import list_counsellors
    from bot.storage.db import session_scope, upgrade_database

    upgrade_database()
    with session_scope() as session:
        for c in list_counsellors(session):
            state = "active" if c.active else "disabled"
            print(f"{c.username:20} {c.role:10} {state:8} {c.display_name or ''}")
    return 0


def _user_set_active(args: argparse.Namespace, active: bool) -> int:
    from bot.dashboard.accounts import set_active
    from bot.storage.db import session_scope, upgrade_database

    upgrade_database()
    with session_scope() as session:
        counsellor = _account(session, args.name, "bousla user")
        if counsellor is None:
            return 1
        set_active(session, counsellor=counsellor, active=active, actor="cli")
    print(f"Account {args.name!r} {'enabled' if active else 'disabled'}.")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    user = subparsers.add_parser("user", help="manage counsellor accounts of the dashboard")
    commands = user.add_subparsers(dest="user_command", metavar="ACTION")

    add = commands.add_parser("add", help="create an account")
    add.add_argument("name", help="login name (letters, digits, . - _)")
    add.add_argument("--role", choices=("counsellor", "admin"), default="counsellor")
    add.add_argument("--display-name", default=None, help="name shown to colleagues")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(handler=_user_add)

    password = commands.add_parser("password", help="set a new password (closes its sessions)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    password.set_defaults(handler=_user_password)

    commands.add_parser("list", help="list accounts").set_defaults(handler=_user_list)
    disable = commands.add_parser("disable", help="disable an account (closes its sessions)")
    disable.add_argument("name")
    disable.set_defaults(handler=lambda args: _user_set_active(args, False))
    enable = commands.add_parser("enable", help="enable an account again")
    enable.add_argument("name")
    enable.set_defaults(handler=lambda args: _user_set_active(args, True))
    user.set_defaults(handler=lambda args: user.print_help() or 2)
