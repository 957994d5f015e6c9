"""`bousla catalog validate [DIR]` and `bousla match ...` (see orientation_catalog/README.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from bot.catalog.schema import (
    EDUCATION_LEVELS,
    GOALS,
    PROJECT_STAGES,
    SECTORS,
    SITUATIONS,
)
from bot.language import LANGUAGES


def register(subparsers: argparse._SubParsersAction) -> None:
    catalog = subparsers.add_parser("catalog", help="check the programme catalogue")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", metavar="ACTION")
    validate = catalog_commands.add_parser(
        "validate", help="check every programme file; exit 1 if a file has errors"
    )
    validate.add_argument(
        "directory", nargs="?", type=Path, help="catalogue folder (default: orientation_catalog/)"
    )
    validate.set_defaults(handler=run_validate)
    catalog.set_defaults(handler=lambda args: catalog.print_help() or 2)

    match = subparsers.add_parser(
        "match", help="which programmes fit a profile, and why (best first)"
    )
    match.add_argument("--age", type=int)
    match.add_argument("--education", choices=EDUCATION_LEVELS)
    match.add_argument("--situation", choices=SITUATIONS)
    match.add_argument("--goal", choices=GOALS)
    match.add_argument("--project-stage", choices=PROJECT_STAGES)
    match.add_argument("--sector", choices=SECTORS)
    match.add_argument("--amount", type=int, help="amount needed, in DH")
    match.add_argument("--commune", help="commune name, in any script (e.g. '3in 7rouda')")
    match.add_argument(
        "--goal-text",
        help="the person's own words about their goal (e.g. 'ta3awniya dyal lkhyata')",
    )
    match.add_argument(
        "--today", type=date.fromisoformat, help="match as on this day, AAAA-MM-JJ (valid_until)"
    )
    match.add_argument("--language", choices=LANGUAGES, default="fr")
    match.add_argument("--limit", type=int, default=3)
    match.add_argument("--near-misses", action="store_true", help="also list near misses")
    match.add_argument("--json", action="store_true", help="print a JSON list, best first")
    match.add_argument("--catalog", type=Path, help="catalogue folder")
    match.set_defaults(handler=run_match)


def _catalog_dir(directory: Path | None) -> Path:
    if directory is not None:
        return directory
    from bot.settings import get_settings

    return get_settings().catalog_dir


def run_validate(args: argparse.Namespace) -> int:
    from bot.catalog.loader import load_catalog

    directory = _catalog_dir(args.directory)
    load = load_catalog(directory)
    for issue in load.errors:
        print(f"ERREUR  {issue}")
    for issue in load.warnings:
        print(f"ATTENTION  {issue}")
    count = len(load.files)
    if load.ok:
        print(
            f"{directory} : {count} fichier(s), {len(load.catalog)} programme(s) valides, "
            f"{len(load.warnings)} avertissement(s)."
        )
        return 0
    print(
        f"{directory} : {len(load.errors)} erreur(s) dans {count} fichier(s). "
        "Les fichiers en erreur ne seront pas utilisés par Bousla."
    )
    return 1


def run_match(args: argparse.Namespace) -> int:
    from bot.catalog.loader import load_catalog
    from bot.orientation.geography import find_commune
    from bot.orientation.matching import Profile, match

    commune = None
    if args.commune:
        commune = find_commune(args.commune)
        if commune is None:
            print(
                f"commune inconnue : « {args.commune} » (voir bot/orientation/geography.yml)",
                file=sys.stderr,
            )
            return 2
    load = load_catalog(_catalog_dir(args.catalog))
    for issue in load.errors:
        print(f"ERREUR  {issue}", file=sys.stderr)
    profile = Profile(
        age=args.age,
        education=args.education,
        situation=args.situation,
        goal=args.goal,
        commune=commune,
        project_stage=args.project_stage,
        sector=args.sector,
        amount=args.amount,
        goal_text=args.goal_text,
    )
    result = match(profile, load.catalog, args.language, limit=args.limit, today=args.today)
    rows = [item.as_dict() for item in result.offers]
    if args.near_misses:
        rows += [item.as_dict() for item in result.near_misses]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(format_table(rows))
    return 0


def format_table(rows: list[dict]) -> str:
    if not rows:
        return "Aucun programme ne correspond."
    id_width = max(len(row["id"]) for row in rows)
    lines = [f"{'#':>2}  {'score':>5}  {'id':<{id_width}}  statut      nom"]
    for rank, row in enumerate(rows, start=1):
        marker = str(rank) if row["kind"] == "offer" else "~"
        lines.append(
            f"{marker:>2}  {row['score']:>5}  {row['id']:<{id_width}}  {row['status']:<10}  "
            f"{row['name']}"
        )
        for reason in row["reasons"]:
            lines.append(f"{'':>13}+ {reason}")
        for missing in row["missing"]:
            lines.append(f"{'':>13}- {missing}")
        if row["caution"]:
            lines.append(f"{'':>13}! {row['caution']}")
    return "\n".join(lines)
