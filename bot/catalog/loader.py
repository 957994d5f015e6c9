"""Read `orientation_catalog/*.yml` into `Program`s, keeping YAML line numbers for errors.

Each file is parsed with PyYAML's composer so that every field's line is known; pydantic's
errors are then rewritten in plain French as `forsa.yml, ligne 12 : age_min doit être un
nombre (reçu « dix-huit »)`. Cross-file checks live in `validation.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.catalog.issues import ERROR, WARNING, CatalogIssue
from bot.catalog.program_file import Location, ProgramFile, line_of
from bot.catalog.schema import Program, Translated, TranslatedList
from bot.catalog.validation import validate_programs
from bot.language import LANGUAGES

# libyaml's parser is about 10 times faster; PyYAML's own words its errors more precisely,
# so a file that fails is parsed again with it (see parse_yaml).
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# French words staff may naturally type instead of the field names.
FRENCH_FIELD_NAMES = {
    "nom": "name",
    "statut": "status",
    "resume": "summary",
    "résumé": "summary",
    "organisme": "organisation",
    "eligibilite": "eligibility",
    "éligibilité": "eligibility",
    "age": "age_min",
    "âge": "age_min",
    "adresse": "address",
    "site": "web",
    "telephone": "phone",
    "téléphone": "phone",
    "objectifs": "goals",
    "buts": "goals",
    "secteurs": "sectors",
    "pieces": "documents",
    "pièces": "documents",
    "verifie_le": "verified_on",
    "vérifié_le": "verified_on",
    "replaced_by": "instead",
    "remplace_par": "instead",
    "remplacé_par": "instead",
    "alternatives": "instead",
    "a_la_place": "instead",
    "alias": "aliases",
    "surnoms": "aliases",
    "note_statut": "status_note",
}

# PyYAML's problems, as programme staff can understand them.
YAML_PROBLEMS = [
    ("mapping values are not allowed", "un « : » en trop ; mettez le texte entre guillemets"),
    ("found character '\\t'", "tabulation interdite ; indentez avec des espaces"),
    ("could not find expected ':'", "il manque « : » après le nom du champ"),
    ("did not find expected key", "indentation incorrecte (décalage des espaces)"),
    ("expected <block end>", "indentation incorrecte (décalage des espaces)"),
    ("did not find expected '-'", "indentation incorrecte dans une liste « - »"),
    ("found unexpected end of stream", "guillemet ou crochet non fermé"),
    ("while scanning a quoted scalar", "guillemet non fermé"),
    ("expected ',' or ']'", "crochet « ] » non fermé ou virgule manquante"),
    ("expected ',' or '}'", "accolade « } » non fermée ou virgule manquante"),
    ("found undefined alias", "« * » au début d'un texte ; mettez le texte entre guillemets"),
    ("found character '@'", "« @ » au début d'un texte ; mettez le texte entre guillemets"),
    ("found character '`'", "« ` » au début d'un texte ; mettez le texte entre guillemets"),
]


@dataclass(frozen=True)
class Catalog:
    """The programmes in service, by id (an immutable snapshot)."""

    programs: Mapping[str, Program]
    directory: Path | None = None

    def __iter__(self) -> Iterator[Program]:
        return iter(self.programs.values())

    def __len__(self) -> int:
        return len(self.programs)

    def __contains__(self, program_id: object) -> bool:
        return program_id in self.programs

    def get(self, program_id: str) -> Program | None:
        return self.programs.get(program_id)


@dataclass(frozen=True)
class CatalogLoad:
    """Result of reading a directory: the valid programmes and every issue found."""

    catalog: Catalog
    issues: tuple[CatalogIssue, ...]
    files: tuple[str, ...] = ()

    @property
    def errors(self) -> list[CatalogIssue]:
        return [issue for issue in self.issues if issue.is_error]

    @property
    def warnings(self) -> list[CatalogIssue]:
        return [issue for issue in self.issues if not issue.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def catalog_files(directory: Path) -> list[Path]:
    """Programme files of a directory: `*.yml`, hidden editor files excluded, sorted."""
    return sorted(
        path for path in directory.glob("*.yml") if path.is_file() and not path.name.startswith(".")
    )


def load_catalog(
    directory: Path | str, today: date | None = None, stale_months: int | None = None
) -> CatalogLoad:
    """Read and check every programme file of `directory` (see validation.py for the rules).

    `stale_months`: age of `verified_on` that makes a warning (default: the setting
    BOUSLA_CATALOG_STALE_MONTHS, 6 months).
    """
    directory = Path(directory)
    today = today or date.today()
    if not directory.is_dir():
        issue = CatalogIssue(str(directory), None, "dossier du catalogue introuvable")
        return CatalogLoad(Catalog({}, directory), (issue,))

    issues: list[CatalogIssue] = []
    program_files: list[ProgramFile] = []
    paths = catalog_files(directory)
    for path in paths:
        program_file, file_issues = read_program_file(path)
        issues.extend(file_issues)
        if program_file is not None:
            program_files.append(program_file)
    for path in sorted(directory.glob("*.yaml")):
        issues.append(
            CatalogIssue(path.name, None, "fichier ignoré : renommez-le en .yml", severity=WARNING)
        )
    if not paths:
        issues.append(CatalogIssue(directory.name, None, "aucun fichier programme (.yml) trouvé"))

    read = {pf.path.stem for pf in program_files}
    unreadable = {path.stem for path in paths} - read
    issues.extend(validate_programs(program_files, today, stale_months, unreadable))
    refused = {issue.file for issue in issues if issue.is_error}
    programs = {
        pf.program.id: pf.program
        for pf in sorted(program_files, key=lambda pf: pf.program.id)
        if pf.name not in refused
    }
    return CatalogLoad(
        Catalog(programs, directory), tuple(issues), tuple(path.name for path in paths)
    )


def read_program_file(path: Path) -> tuple[ProgramFile | None, list[CatalogIssue]]:
    """One programme file: the programme (None when refused) and the issues found."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return None, [CatalogIssue(name, None, "le fichier doit être enregistré en UTF-8")]
    except OSError as error:
        return None, [CatalogIssue(name, None, f"fichier illisible ({error.strerror})")]

    try:
        data, lines, duplicates = parse_yaml(text)
    except yaml.MarkedYAMLError as error:
        return None, [_yaml_issue(name, error)]
    except yaml.YAMLError as error:
        return None, [CatalogIssue(name, None, f"erreur de syntaxe YAML ({error})")]

    issues = [CatalogIssue(name, line, message, field) for line, message, field in duplicates]
    if data is None:
        return None, [CatalogIssue(name, None, "le fichier est vide")]
    if not isinstance(data, dict):
        message = "le fichier doit contenir des champs « nom: valeur » (id: ..., status: ...)"
        return None, [CatalogIssue(name, 1, message)]
    odd_keys = [key for key in data if not isinstance(key, str)]
    if odd_keys:  # `?`, `1:` or `true:` at the top: YAML reads a key that is not a name
        shown = "?" if odd_keys[0] is None else odd_keys[0]
        message = f"un champ doit commencer par son nom (« nom: valeur »), pas par « {shown} »"
        return None, [CatalogIssue(name, None, message)]
    try:
        program = Program.parse_obj(data)
    except ValidationError as error:
        issues.extend(describe_error(name, e, data, lines) for e in error.errors())
        return None, sorted(issues, key=lambda issue: issue.line or 0)
    if issues:
        return None, issues
    return ProgramFile(path, program, lines), []


def parse_yaml(text: str) -> tuple[Any, dict[Location, int], list[tuple[int, str, str]]]:
    """The YAML data, the line (1-based) of each key and list item, and duplicated keys."""
    try:
        return _parse_yaml(text, FAST_LOADER)
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
        return _parse_yaml(text, yaml.SafeLoader)  # raises again, with clearer words


def _parse_yaml(
    text: str, loader_class: type
) -> tuple[Any, dict[Location, int], list[tuple[int, str, str]]]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[Location, int] = {(): 1}
    duplicates: list[tuple[int, str, str]] = []
    if node is not None:
        _record_lines(node, (), lines, duplicates)
    return data, lines, duplicates


def _record_lines(
    node: yaml.Node,
    location: Location,
    lines: dict[Location, int],
    duplicates: list[tuple[int, str, str]],
) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key_location = (*location, key_node.value)
            line = key_node.start_mark.line + 1
            if key_location in lines:
                label = field_label(key_location)
                message = f"{label} écrit deux fois (lignes {lines[key_location]} et {line})"
                duplicates.append((line, message, ".".join(map(str, key_location))))
            lines[key_location] = line
            _record_lines(value_node, key_location, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*location, index)] = item.start_mark.line + 1
            _record_lines(item, (*location, index), lines, duplicates)


def _yaml_issue(file_name: str, error: yaml.MarkedYAMLError) -> CatalogIssue:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else None
    raw = f"{error.context or ''} {error.problem or ''}"
    explanation = next((fr for en, fr in YAML_PROBLEMS if en in raw), None)
    if explanation is None:
        explanation = (error.problem or "texte mal formé").strip()
    return CatalogIssue(file_name, line, f"erreur de syntaxe YAML : {explanation}")


def field_label(location: Location) -> str:
    """How staff see a field: 'age_min', 'summary (ary)', 'gives (fr), élément 3'."""
    parts = [part for part in location if part != "__root__"]
    if parts and parts[0] == "eligibility" and len(parts) > 1:
        parts = parts[1:]  # eligibility's field names are unique: keep messages short
    label = ""
    for part in parts:
        if isinstance(part, int):
            label += f", élément {part + 1}"
        elif part in LANGUAGES and label:
            label += f" ({part})"
        else:
            label = f"{label}.{part}" if label else str(part)
    return label or "le fichier"


def _model_at(location: Location) -> type[BaseModel] | None:
    """The schema model expected at a location (None for a plain value)."""
    model: type[BaseModel] = Program
    for part in location:
        if isinstance(part, int) or part == "__root__":
            continue
        model_field = model.__fields__.get(part)
        if model_field is None:
            return None
        expected = model_field.type_
        if not (isinstance(expected, type) and issubclass(expected, BaseModel)):
            return None
        model = expected
    return model


def _value_at(data: Any, location: Location) -> Any:
    for part in location:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _shown(value: Any) -> str:
    text = "vide" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _suggest_field(unknown: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    names = list(model.__fields__)
    alias = FRENCH_FIELD_NAMES.get(unknown.lower())
    if alias in names:
        return alias
    close = get_close_matches(unknown.lower(), names, n=1, cutoff=0.6)
    return close[0] if close else ""


def describe_error(
    file_name: str, error: dict, data: Any, lines: Mapping[Location, int]
) -> CatalogIssue:
    """A pydantic error as a French sentence naming the file, the line and the field."""
    location: Location = tuple(error["loc"])
    kind: str = error["type"]
    context: dict = error.get("ctx") or {}
    label = field_label(location)
    received = _shown(_value_at(data, location))
    line = line_of(lines, location)
    last = location[-1] if location else ""

    if kind == "value_error.missing":
        parent = location[:-1]
        if last in LANGUAGES and parent:
            message = f"{field_label(parent)} : traduction {last} manquante"
        elif parent:
            message = f"champ obligatoire « {last} » manquant dans {field_label(parent)}"
        else:
            message = f"champ obligatoire « {last} » manquant"
    elif kind == "value_error.extra":
        suggestion = _suggest_field(str(last), _model_at(location[:-1]))
        message = f"champ inconnu « {last} »"
        if suggestion:
            message += f" (vouliez-vous dire « {suggestion} » ?)"
    elif kind in ("value_error.not_a_number", "type_error.integer") or kind.startswith(
        "value_error.number"
    ):
        message = f"{label} doit être un nombre (reçu « {received} »)"
    elif kind == "value_error.not_a_date" or "date" in kind:
        example = "AAAA-MM-JJ, par ex. 2026-11-23"
        message = f"{label} doit être une date écrite {example} (reçu « {received} »)"
    elif kind == "value_error.unknown_value":
        message = f"{label} : valeur « {context.get('given')} » inconnue"
        if context.get("suggestion"):
            message += f" (vouliez-vous dire « {context['suggestion']} » ?)"
        message += f" ; valeurs possibles : {context.get('permitted')}"
    elif kind == "type_error.none.not_allowed":
        message = f"{label} est vide"
    elif kind == "type_error.list":
        message = f"{label} doit être une liste (une ligne « - ... » par élément)"
    elif kind == "type_error.dict":
        expected = _model_at(location)
        if expected in (Translated, TranslatedList):
            message = f"{label} doit contenir les trois langues : fr, ary et ary_latn"
        else:
            message = f"{label} doit contenir des sous-champs (voir le modèle dans README.md)"
    elif kind == "type_error.str":
        message = f"{label} doit être un texte"
    else:
        text = str(error.get("msg", "valeur refusée"))
        joiner = " " if text.startswith(("doit ", "est ")) else " : "
        message = f"{label}{joiner}{text}"
    return CatalogIssue(file_name, line, message, ".".join(map(str, location)), ERROR)
