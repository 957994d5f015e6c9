"""`bousla report --from YYYY-MM-DD --to YYYY-MM-DD [--out DIR]`: the impact report.

People heard (by track, language, channel), referrals per programme, follow-up answers,
requests for a counsellor and waiting times, for the days from `--from` to `--to`
(both included, UTC days), as CSV files and one self-contained HTML page with charts.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import get_settings

if TYPE_CHECKING:
    from bot.report.stats import Period

MAX_DAYS = 3660  # ten years: a typo like 2062 is refused


class ReportError(ValueError):
    """A bad request for a report; the message says what to fix."""


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ReportError(
            f"{option} {value!r} is not a date (YYYY-MM-DD, e.g. 2026-11-01)"
        ) from None


def period_of(first: str, last: str) -> Period:
    from bot.report.stats import Period

    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    if start > end:
        raise ReportError(f"--from {start} is after --to {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError(f"the period is longer than {MAX_DAYS} days")
    return Period(start, end)


def _report(args: argparse.Namespace) -> int:
    try:
        period = period_of(args.first, args.last)
    except ReportError as error:
        print(f"bousla report: {error}", file=sys.stderr)
        return 2
    from bot.report.build import write_report
    from bot.storage.audit import record
    from bot.storage.db import DatabaseUnavailable, session_scope, upgrade_database

    out_dir = (
        Path(args.out)
        if args.out
        else (get_settings().var_dir / "reports" / f"{period.first}_{period.last}")
    )
    try:
        upgrade_database()
        with session_scope() as session:
            report, written = write_report(session, period, out_dir)
            record(
                session,
                actor="cli",
                action="report_exported",
                details={"from": str(period.first), "to": str(period.last)},
            )
    except DatabaseUnavailable as error:
        print(f"bousla report: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"bousla report: cannot write to {out_dir}: {error.strerror}", file=sys.stderr)
        return 1
    print(
        f"Report {period.first} to {period.last}: {report.people_count} people heard, "
        f"{report.total} requests for a counsellor, {len(report.followups)} follow-ups asked."
    )
    for path in written:
        print(f"  {path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="impact report for a period (CSV files and an HTML page with charts)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--out", metavar="DIR", help="where to write the files (default var/reports/FROM_TO/)"
    )
    parser.set_defaults(handler=_report)
