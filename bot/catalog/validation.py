"""Checks across the catalogue files, after each file is read on its own (loader.py).

Errors (the file is refused): duplicate ids, id different from the file name, unknown
track, residence naming a place that `bot/orientation/geography.yml` does not know.
Warnings (the file is used, staff should look): information verified more than
12 months ago, `valid_until` passed, verification date in the future, status
`to_confirm` without saying what to confirm, summaries too long for a phone screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import PydanticValueError

from bot.catalog.issues import ERROR, WARNING, CatalogIssue
from bot.catalog.program_file import ProgramFile
from bot.catalog.schema import STALE_AFTER_MONTHS, TRACKS, one_of
from bot.language import LANGUAGES
from bot.orientation.geography import default_geography

SUMMARY_MAX_CHARACTERS = 220
SUMMARY_MAX_LINES = 2


def validate_programs(program_files: Sequence[ProgramFile], today: date) -> list[CatalogIssue]:
    issues: list[CatalogIssue] = []
    first_file_of_id: dict[str, str] = {}
    # Files named after their id first, so a copy is the one reported as the duplicate.
    ordered = sorted(program_files, key=lambda pf: (pf.path.stem != pf.program.id, pf.name))
    for program_file in ordered:
        issues.extend(_identity(program_file, first_file_of_id))
        issues.extend(_track(program_file))
        issues.extend(_residence(program_file))
        issues.extend(_freshness(program_file, today))
        issues.extend(_readability(program_file))
    return issues


def _issue(
    program_file: ProgramFile, field: tuple, message: str, severity: str = ERROR
) -> CatalogIssue:
    return CatalogIssue(
        program_file.name,
        program_file.line_of(*field),
        message,
        ".".join(map(str, field)),
        severity,
    )


def _identity(program_file: ProgramFile, first_file_of_id: dict[str, str]) -> list[CatalogIssue]:
    program_id = program_file.program.id
    issues = []
    if program_id != program_file.path.stem:
        issues.append(
            _issue(
                program_file,
                ("id",),
                f"id « {program_id} » différent du nom du fichier : le fichier doit s'appeler "
                f"{program_id}.yml, ou l'id doit être « {program_file.path.stem} »",
            )
        )
    if program_id in first_file_of_id:
        issues.append(
            _issue(
                program_file,
                ("id",),
                f"id « {program_id} » déjà utilisé dans {first_file_of_id[program_id]} : "
                "chaque programme doit avoir un id unique",
            )
        )
    else:
        first_file_of_id[program_id] = program_file.name
    return issues


def _track(program_file: ProgramFile) -> list[CatalogIssue]:
    try:
        one_of(program_file.program.track, TRACKS)
    except PydanticValueError as error:
        message = f"track : valeur « {error.given} » inconnue"
        if error.suggestion:
            message += f" (vouliez-vous dire « {error.suggestion} » ?)"
        message += f" ; valeurs possibles : {error.permitted}"
        return [_issue(program_file, ("track",), message)]
    return []


def _residence(program_file: ProgramFile) -> list[CatalogIssue]:
    geography = default_geography()
    residence = program_file.program.eligibility.residence
    known = {
        "communes": geography.communes,
        "prefectures": geography.prefectures,
        "regions": geography.regions,
    }
    issues = []
    for list_name, places in known.items():
        for index, slug in enumerate(getattr(residence, list_name)):
            if slug in places:
                continue
            message = f"{list_name} : « {slug} » inconnu de bot/orientation/geography.yml"
            guess = geography.find_commune(slug) if list_name == "communes" else None
            if guess:
                message += f" (vouliez-vous dire « {guess} » ?)"
            else:
                message += f" ; exemples : {', '.join(list(places)[:4])}"
            issues.append(
                _issue(program_file, ("eligibility", "residence", list_name, index), message)
            )
    return issues


def _freshness(program_file: ProgramFile, today: date) -> list[CatalogIssue]:
    program = program_file.program
    issues = []
    staleness = program.staleness(today)
    if staleness == "expired":
        issues.append(
            _issue(
                program_file,
                ("valid_until",),
                f"valid_until {program.valid_until.isoformat()} dépassée : le programme est-il "
                "encore ouvert ? Vérifiez, puis changez valid_until ou status",
                WARNING,
            )
        )
    elif staleness == "old":
        issues.append(
            _issue(
                program_file,
                ("verified_on",),
                f"informations vérifiées le {program.verified_on.isoformat()}, il y a plus de "
                f"{STALE_AFTER_MONTHS} mois : revérifiez-les auprès de l'organisme, "
                "puis mettez la date du jour dans verified_on",
                WARNING,
            )
        )
    if program.verified_on > today:
        issues.append(
            _issue(
                program_file,
                ("verified_on",),
                f"verified_on {program.verified_on.isoformat()} est dans le futur",
                WARNING,
            )
        )
    if program.status == "to_confirm" and not program.points_to_confirm:
        issues.append(
            _issue(
                program_file,
                ("status",),
                "status to_confirm : dites dans points_to_confirm ce qui reste à vérifier",
                WARNING,
            )
        )
    return issues


def _readability(program_file: ProgramFile) -> list[CatalogIssue]:
    issues = []
    for language in LANGUAGES:
        summary = getattr(program_file.program.summary, language)
        lines = summary.count("\n") + 1
        if len(summary) > SUMMARY_MAX_CHARACTERS or lines > SUMMARY_MAX_LINES:
            issues.append(
                _issue(
                    program_file,
                    ("summary", language),
                    f"summary ({language}) trop long ({len(summary)} caractères, {lines} lignes) :"
                    f" {SUMMARY_MAX_LINES} lignes courtes au plus ({SUMMARY_MAX_CHARACTERS} "
                    "caractères), on lit sur un téléphone",
                    WARNING,
                )
            )
    return issues
