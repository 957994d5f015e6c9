"""`bousla erase`, `bousla purge` and `bousla export`: the staff side of law 09-08.

The person is named as staff know them (a phone number, a Telegram chat id, a web chat
id); the pseudonym is computed the way the channels compute it, and only the pseudonym
is printed or logged. What was erased is said in counts per table.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from bot.privacy.addresses import CHANNELS, person_id_for
from bot.privacy.erasure import erase_person
from bot.privacy.export import export_person, record_export
from bot.privacy.retention import RETENTION_DAYS, parse_age, purge
from bot.settings import get_settings
from bot.storage.db import build_engine, scrub_sqlite, session_scope, upgrade_database

logger = logging.getLogger(__name__)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


@contextmanager
def _stores() -> Iterator[tuple[Session, Connection | None]]:
    """A session on the application database and a connection to Rasa's tracker store
    (None when it was never created), both committed at the end, rolled back on error.
    On PostgreSQL they are one database: one transaction."""
    settings = get_settings()
    upgrade_database()
    if settings.tracker_database_url == settings.app_database_url:
        with session_scope() as session:
            yield session, session.connection()
        return
    if not _tracker_exists(settings.tracker_database_url):
        with session_scope() as session:
            yield session, None
        return
    engine = build_engine(settings.tracker_database_url)  # secure_delete, like the app's
    try:
        with engine.begin() as tracker, session_scope() as session:
            yield session, tracker
    finally:
        engine.dispose()


def _scrub() -> None:
    """SQLite: nothing erased may stay behind in the write-ahead log."""
    settings = get_settings()
    scrub_sqlite(settings.app_database_url, settings.tracker_database_url)


def _tracker_exists(url: str) -> bool:
    """A SQLite tracker file that was never created holds nothing (and is not created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return True
    return Path(parsed.database).exists()


def _person_id(args: argparse.Namespace, command: str) -> str | None:
    try:
        return person_id_for(args.channel, args.user)
    except ValueError as error:
        print(f"bousla {command}: --user: {error}", file=sys.stderr)
        return None


def _print_counts(counts: dict[str, int], indent: str = "  ") -> None:
    width = max((len(table) for table in counts), default=0)
    for table, count in sorted(counts.items()):
        print(f"{indent}{table:<{width}}  {count}")


# ---------------------------------------------------------------- erase


def _erase(args: argparse.Namespace) -> int:
    person_id = _person_id(args, "erase")
    if person_id is None:
        return 2
    if not args.yes:
        if not sys.stdin.isatty():
            print("bousla erase: no terminal to confirm; add --yes.", file=sys.stderr)
            return 2
        answer = input(f"Erase everything about {person_id} ({args.channel})? [y/N] ")
        if answer.strip().lower() not in ("y", "yes", "o", "oui"):
            print("Nothing erased.")
            return 1
    with _stores() as (session, tracker):
        erasure = erase_person(
            session, person_id=person_id, actor=_actor(), reason="staff", tracker=tracker
        )
    _scrub()
    if not erasure.found:
        print(f"Nothing found for {person_id} ({args.channel}): nothing erased.")
        return 0
    logger.info("Erased %s on staff request: %s", person_id, erasure.summary())
    print(f"Erased {person_id} ({args.channel}):")
    _print_counts(erasure.summary())
    if erasure.audit_unlinked:
        print(f"  audit_log entries unlinked from them  {erasure.audit_unlinked}")
    return 0


# ---------------------------------------------------------------- purge


def _purge(args: argparse.Namespace) -> int:
    try:
        older_than = parse_age(args.older_than)
    except ValueError as error:
        print(f"bousla purge: --older-than {error}", file=sys.stderr)
        return 2
    with _stores() as (session, tracker):
        report = purge(
            session, older_than=older_than, tracker=tracker, dry_run=args.dry_run, actor=_actor()
        )
    if not args.dry_run:
        _scrub()
    when = report.cutoff.isoformat(timespec="minutes")
    verb = "Would erase" if args.dry_run else "Erased"
    print(f"{verb} {report.people} person(s) silent since before {when} UTC, and older rows:")
    if report.counts:
        _print_counts(report.counts)
    else:
        print("  nothing")
    if report.leftovers:
        print(f"  erasure messages left over             {report.leftovers}")
    if args.dry_run:
        print("Dry run: nothing was changed.")
    return 0


# ---------------------------------------------------------------- export


def _export(args: argparse.Namespace) -> int:
    person_id = _person_id(args, "export")
    if person_id is None:
        return 2
    with _stores() as (session, _tracker):
        data = export_person(session, person_id=person_id)
        if data is not None:
            record_export(session, person_id=person_id, actor=_actor())
    if data is None:
        print(
            f"bousla export: nothing is kept about {person_id} ({args.channel}).", file=sys.stderr
        )
        return 1
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"Exported {person_id} to {args.out}", file=sys.stderr)
    else:
        print(text)
    logger.info("Exported the data of %s", person_id)
    return 0


# ---------------------------------------------------------------- wiring


def _who(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", required=True, choices=CHANNELS)
    parser.add_argument(
        "--user",
        required=True,
        help="WhatsApp number (+212612345678 or 0612345678), Telegram chat id, "
        "web chat id or REST sender id",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    erase_command = subparsers.add_parser(
        "erase", help="erase everything about one person (law 09-08)", description=__doc__
    )
    _who(erase_command)
    erase_command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase_command.set_defaults(handler=_erase)

    purge_command = subparsers.add_parser(
        "purge", help="retention: erase people and messages older than a duration"
    )
    purge_command.add_argument(
        "--older-than",
        default=f"{RETENTION_DAYS}d",
        help=f"e.g. 365d, 52w, 48h (default {RETENTION_DAYS}d)",
    )
    purge_command.add_argument("--dry-run", action="store_true", help="only count what would go")
    purge_command.set_defaults(handler=_purge)

    export_command = subparsers.add_parser("export", help="one person's data as JSON (law 09-08)")
    _who(export_command)
    export_command.add_argument("--out", help="write to this file instead of standard output")
    export_command.set_defaults(handler=_export)
