"""Checks across the catalogue files, after each file is read on its own (loader.py).

Errors (the file is refused): duplicate ids, id different from the file name, unknown
track, residence naming a place that `bot/orientation/geography.yml` does not know, a paused or
ended programme without `status_note`, an `instead` naming a programme that does not exist
or is not open, a name or alias already used by another programme (or too general).
Warnings (the file is used, staff should look): information verified more than
BOUSLA_CATALOG_STALE_MONTHS months ago (6 by default), `valid_until` passed or close,
verification date in the future, status `to_confirm` without saying what to confirm, a
closed programme without `instead`, summaries too long for a phone screen.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from difflib import get_close_matches

from pydantic import PydanticValueError

from bot.catalog.issues import ERROR, WARNING, CatalogIssue
from bot.catalog.names import FILLERS, PROGRAMME_WORDS, QUESTION_WORDS, folded_name, words
from bot.catalog.program_file import ProgramFile
from bot.catalog.schema import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    TRACKS,
    one_of,
    stale_months_setting,
)
from bot.language import LANGUAGES
from bot.orientation.geography import default_geography

SUMMARY_MAX_CHARACTERS = 220
SUMMARY_MAX_LINES = 2
STATUS_NOTE_MAX_CHARACTERS = 240
EXPIRES_SOON_DAYS = 30  # valid_until this close: staff are warned to prepare what comes next


def validate_programs(
    program_files: Sequence[ProgramFile],
    today: date,
    stale_months: int | None = None,
    refused_ids: Collection[str] = (),
) -> list[CatalogIssue]:
    """`refused_ids`: ids (file names) of files that could not be read: an `instead` naming
    one of them is not reported again (the file's own error says what to fix)."""
    if stale_months is None:
        stale_months = stale_months_setting()
    issues: list[CatalogIssue] = []
    first_file_of_id: dict[str, str] = {}
    # Files named after their id first, so a copy is the one reported as the duplicate.
    ordered = sorted(program_files, key=lambda pf: (pf.path.stem != pf.program.id, pf.name))
    by_id = {}
    for program_file in ordered:
        by_id.setdefault(program_file.program.id, program_file)
    for program_file in ordered:
        issues.extend(_identity(program_file, first_file_of_id))
        issues.extend(_track(program_file))
        issues.extend(_residence(program_file))
        issues.extend(_freshness(program_file, today, stale_months))
        issues.extend(_status_consequences(program_file))
        issues.extend(_instead(program_file, by_id, today, refused_ids))
        issues.extend(_readability(program_file))
    issues.extend(_names(ordered))
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


def _freshness(program_file: ProgramFile, today: date, stale_months: int) -> list[CatalogIssue]:
    program = program_file.program
    issues = []
    # An ended programme is kept as history: nothing to re-verify.
    ended = program.status == "ended"
    staleness = None if ended else program.staleness(today, stale_months)
    if staleness == "expired" and program.is_open:
        issues.append(
            _issue(
                program_file,
                ("valid_until",),
                f"valid_until {program.valid_until.isoformat()} dépassée : Bousla ne propose "
                "plus ce programme. Est-il prolongé ? Changez valid_until, ou mettez "
                "status: ended avec status_note et instead",
                WARNING,
            )
        )
    elif staleness == "old":
        issues.append(
            _issue(
                program_file,
                ("verified_on",),
                f"informations vérifiées le {program.verified_on.isoformat()}, il y a plus de "
                f"{stale_months} mois : revérifiez-les auprès de l'organisme, "
                "puis mettez la date du jour dans verified_on",
                WARNING,
            )
        )
    if (
        program.is_open
        and program.valid_until is not None
        and 0 <= (program.valid_until - today).days <= EXPIRES_SOON_DAYS
    ):
        days = (program.valid_until - today).days
        issues.append(
            _issue(
                program_file,
                ("valid_until",),
                f"valid_until {program.valid_until.isoformat()} dans {days} jour(s) : le "
                "lendemain, Bousla ne le proposera plus. Vérifiez s'il est prolongé",
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


def _status_consequences(program_file: ProgramFile) -> list[CatalogIssue]:
    """A paused or ended programme says what happened (status_note) and where to go instead."""
    program = program_file.program
    issues = []
    if program.status in CLOSED_STATUSES:
        word = "terminé" if program.status == "ended" else "en pause"
        if program.status_note is None:
            issues.append(
                _issue(
                    program_file,
                    ("status",),
                    f"status {program.status} : programme {word}, ajoutez status_note (ce qui "
                    "s'est passé, en deux lignes courtes, en fr, ary et ary_latn) : Bousla le "
                    "dit à qui demande ce programme par son nom",
                )
            )
        if not program.instead:
            issues.append(
                _issue(
                    program_file,
                    ("status",),
                    f"status {program.status} : dites dans instead vers quel(s) programme(s) "
                    "ouvert(s) orienter les jeunes qui le demandent",
                    WARNING,
                )
            )
    elif program.status_note is not None:
        issues.append(
            _issue(
                program_file,
                ("status_note",),
                f"status_note n'est montré que pour un programme en pause ou terminé "
                f"(status actuel : {program.status})",
                WARNING,
            )
        )
    if program.status_note is not None:
        for language in LANGUAGES:
            note = getattr(program.status_note, language)
            if len(note) > STATUS_NOTE_MAX_CHARACTERS:
                issues.append(
                    _issue(
                        program_file,
                        ("status_note", language),
                        f"status_note ({language}) trop long ({len(note)} caractères) : "
                        f"{STATUS_NOTE_MAX_CHARACTERS} caractères au plus",
                        WARNING,
                    )
                )
    return issues


def _instead(
    program_file: ProgramFile,
    by_id: dict[str, ProgramFile],
    today: date,
    refused_ids: Collection[str] = (),
) -> list[CatalogIssue]:
    """`instead` names programmes that exist and are open (a closed one would send nowhere)."""
    program = program_file.program
    issues = []
    for index, target_id in enumerate(program.instead):
        field = ("instead", index)
        target = by_id.get(target_id)
        if target is None and target_id in refused_ids:
            continue  # that file has its own error
        if target_id == program.id:
            issues.append(
                _issue(program_file, field, f"instead : « {target_id} » est ce même programme")
            )
        elif target is None:
            message = f"instead : programme « {target_id} » inconnu"
            close = get_close_matches(target_id, list(by_id), n=1, cutoff=0.6)
            if close:
                message += f" (vouliez-vous dire « {close[0]} » ?)"
            issues.append(_issue(program_file, field, message))
        elif target.program.status not in OPEN_STATUSES:
            issues.append(
                _issue(
                    program_file,
                    field,
                    f"instead : « {target_id} » n'est pas ouvert "
                    f"(status {target.program.status}) : choisissez un programme ouvert",
                )
            )
        elif not target.program.is_open_on(today):
            issues.append(
                _issue(
                    program_file,
                    field,
                    f"instead : « {target_id} » a dépassé sa date valid_until "
                    f"({target.program.valid_until.isoformat()}) : Bousla ne le proposera pas",
                    WARNING,
                )
            )
    return issues


GENERAL_WORDS = PROGRAMME_WORDS | QUESTION_WORDS | FILLERS


def _names(ordered: Sequence[ProgramFile]) -> list[CatalogIssue]:
    """Each name and alias names one programme only, and says more than "programme"."""
    issues = []
    owner: dict[tuple[str, ...], tuple[str, str]] = {}  # folded name -> (id, as written)
    for program_file in ordered:
        program = program_file.program
        written = [(("name", language), getattr(program.name, language)) for language in LANGUAGES]
        for language in LANGUAGES:
            for index, alias in enumerate(getattr(program.aliases, language)):
                written.append((("aliases", language, index), alias))
        mine: set[tuple[str, ...]] = set()
        for field, text in written:
            key = folded_name(text)
            if not key:
                continue
            if field[0] == "aliases" and set(words(text)) <= GENERAL_WORDS:
                issues.append(
                    _issue(
                        program_file,
                        field,
                        f"alias « {text} » trop général : il ne désigne aucun programme en "
                        "particulier",
                    )
                )
                continue
            other = owner.get(key)
            if other is not None and other[0] != program.id:
                issues.append(
                    _issue(
                        program_file,
                        field,
                        f"« {text} » désigne déjà le programme {other[0]} (« {other[1]} ») : "
                        "un nom ou un alias ne peut désigner qu'un seul programme",
                    )
                )
                continue
            owner.setdefault(key, (program.id, text))
            mine.add(key)
        for index, alias in enumerate(program.aliases.needs_context):
            if folded_name(alias) not in mine and tuple(words(alias)) != tuple(
                program.id.split("-")
            ):
                issues.append(
                    _issue(
                        program_file,
                        ("aliases", "needs_context", index),
                        f"needs_context : « {alias} » n'est ni le nom ni un alias de ce "
                        "programme ; ajoutez-le d'abord dans aliases",
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
