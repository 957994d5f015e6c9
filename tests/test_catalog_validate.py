"""`bousla catalog validate`: the shipped catalogue passes; each kind of mistake that
programme staff can make is refused with the file, the line and the field, in French."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.cli import main

CATALOG_DIR = PROJECT_ROOT / "orientation_catalog"
SAMPLE = Path(__file__).parent / "catalog_fixtures" / "sample.yml"
# The ids of shared/catalog-sources.md, spelled exactly.
REQUIRED_IDS = """
    smart-initiatives fondation-zakoura entraide-nationale maison-des-jeunes anapec-idmaj
    anapec-taehil anapec-tahfiz awrach ofppt cite-des-metiers-casablanca-settat
    ecole-deuxieme-chance indh-programme-3 intelaka forsa reseau-entreprendre-maroc
    moubadara-pret-honneur ads-agr auto-entrepreneur odco-cooperative maroc-impact-sac
""".split()  # noqa: SIM905 - a word list is easier to compare with the sources as text
# Added by issue 18 (programmes a counsellor in Mohammedia prefecture would name in 2026).
NEW_IDS = [
    "tadarroj-apprentissage",
    "indh-plateforme-jeunes-mohammedia",
    "alliance-initiative-maroc",
    "fondation-ocp-cooperatives",
]
# The catalogue's facts were re-checked on 7 December 2026 (every `verified_on`).
TODAY = date(2026, 12, 7)


def line_number(text: str, fragment: str) -> int:
    """1-based line of the first line containing `fragment`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in text")


def write_sample(directory: Path, text: str | None = None, name: str = "sample.yml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text if text is not None else SAMPLE.read_text(encoding="utf-8"), "utf-8")
    return path


def test_shipped_catalog_is_valid(capsys):
    assert main(["catalog", "validate", str(CATALOG_DIR)]) == 0
    out = capsys.readouterr().out
    assert "ERREUR" not in out
    assert "24 programme(s) valides" in out  # the 20 required ids and 4 added in issue 18


def test_shipped_catalog_has_every_required_programme():
    load = load_catalog(CATALOG_DIR, today=TODAY)
    assert load.ok, [str(issue) for issue in load.errors]
    assert sorted(load.catalog.programs) == sorted(REQUIRED_IDS + NEW_IDS)
    # The only warning on TODAY: Tahfiz closes on 31 December 2026 (in less than 30 days).
    assert [(issue.file, issue.field) for issue in load.warnings] == [
        ("anapec-tahfiz.yml", "valid_until")
    ], [str(issue) for issue in load.warnings]


def test_shipped_catalog_flags_what_the_sources_mark_to_confirm():
    catalog = load_catalog(CATALOG_DIR, today=TODAY).catalog
    status = {program.id: program.status for program in catalog}
    # The December 2026 fact check (issue 18) settled several "to confirm": SMarT Initiatives
    # and Maroc Impact's SAC ended; Awrach, Forsa and Moubadara have no open call; Idmaj's
    # opening to non-graduates was confirmed (le360, 2024-11) and OFPPT is open (only its
    # fees are unknown, said in points_to_confirm).
    assert {pid for pid, s in status.items() if s == "ended"} == {
        "smart-initiatives",
        "maroc-impact-sac",
    }
    assert {pid for pid, s in status.items() if s == "paused"} == {
        "awrach",
        "forsa",
        "moubadara-pret-honneur",
    }
    to_confirm = {pid for pid, s in status.items() if s == "to_confirm"}
    assert {
        "ads-agr",
        "intelaka",
        "alliance-initiative-maroc",
        "cite-des-metiers-casablanca-settat",
    } <= to_confirm
    for program_id in to_confirm:
        assert catalog.get(program_id).points_to_confirm, program_id
    assert catalog.get("anapec-tahfiz").valid_until == date(2026, 12, 31)
    assert catalog.get("ofppt").eligibility.age_min == 15


def test_every_programme_says_where_its_facts_come_from_and_when():
    for program in load_catalog(CATALOG_DIR, today=TODAY).catalog:
        assert program.verified_on == TODAY, program.id
        assert program.source, program.id
        assert program.aliases.all(), program.id  # recognised by its names (issue 16)
        if program.status in ("paused", "ended"):
            assert program.status_note is not None and program.instead, program.id


def test_the_themes_stay_covered_by_open_programmes():
    """Issue 18 item 5: employability, entrepreneurship, cooperatives and income-generating
    activities, INDH programme 3, honour loans, listening and social inclusion."""
    catalog = load_catalog(CATALOG_DIR, today=TODAY).catalog
    open_ids = {program.id for program in catalog if program.is_open_on(TODAY)}
    themes = {
        "employability": {"anapec-idmaj", "anapec-taehil", "tadarroj-apprentissage"},
        "entrepreneurship": {"auto-entrepreneur", "indh-programme-3"},
        "cooperatives and IGA": {"odco-cooperative", "fondation-ocp-cooperatives", "ads-agr"},
        "INDH programme 3": {"indh-programme-3"},
        "honour loans": {"reseau-entreprendre-maroc", "alliance-initiative-maroc"},
        "listening and social inclusion": {
            "indh-plateforme-jeunes-mohammedia",
            "maison-des-jeunes",
            "entraide-nationale",
        },
    }
    for theme, ids in themes.items():
        assert ids <= open_ids, theme


def test_shipped_catalog_has_no_phone_numbers():
    """Contacts are organisations, addresses and web pages: never an unverified number."""
    for program in load_catalog(CATALOG_DIR, today=TODAY).catalog:
        assert program.contact.phone is None, program.id


def test_validate_runs_as_a_command():
    completed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "catalog", "validate", "orientation_catalog"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "programme(s) valides" in completed.stdout


def test_sample_fixture_is_valid(tmp_path):
    write_sample(tmp_path)
    load = load_catalog(tmp_path, today=TODAY)
    assert load.ok, [str(issue) for issue in load.errors]


# (case, text to replace in sample.yml, replacement, line marker after the edit, expected message)
BROKEN = [
    (
        "wrong type",
        "  age_min: 18",
        "  age_min: dix-huit",
        "age_min:",
        "age_min doit être un nombre (reçu « dix-huit »)",
    ),
    (
        "yaml syntax",
        "organisation: Ministère du Tourisme",
        "organisation: Ministère : du Tourisme",
        "organisation:",
        "erreur de syntaxe YAML : un « : » en trop",
    ),
    (
        "tab indentation",
        "  age_min: 18",
        "\tage_min: 18",
        "age_min:",
        "tabulation interdite",
    ),
    (
        "unknown field",
        "  age_min: 18",
        "  agemin: 18",
        "agemin:",
        "champ inconnu « agemin » (vouliez-vous dire « age_min » ?)",
    ),
    (
        "french field name",
        "status: to_confirm",
        "statut: to_confirm",
        "statut:",
        "champ inconnu « statut » (vouliez-vous dire « status » ?)",
    ),
    (
        "missing translation",
        "  ary: |-\n    باش تبدا المشروع ديالك من 18 عام، حتى بلا ديبلوم.\n"
        "    تكوين، مواكبة وسلف الشرف بلا فايدة حتى لتقريبا 100000 درهم.\n",
        "",
        "summary:",
        "summary : traduction ary manquante",
    ),
    (
        "translation in the wrong script",
        "  ary: برنامج فرصة",
        "  ary: Barnamaj Forsa",
        "  ary: Barnamaj Forsa",
        "name (ary) doit être écrit en lettres arabes",
    ),
    (
        "unknown track",
        "track: entrepreneurship",
        "track: entreprenariat",
        "track:",
        "track : valeur « entreprenariat » inconnue (vouliez-vous dire « entrepreneurship » ?)",
    ),
    (
        "id different from file name",
        "id: sample",
        "id: forsa-2022",
        "id:",
        "id « forsa-2022 » différent du nom du fichier",
    ),
    (
        "unknown value",
        "  project_stages: [idea, started]",
        "  project_stages: [idee, started]",
        "project_stages:",
        "project_stages, élément 1 : valeur « idee » inconnue (vouliez-vous dire « idea » ?)",
    ),
    (
        "bad date",
        "verified_on: 2026-11-23",
        "verified_on: 23/11/2026",
        "verified_on:",
        "verified_on doit être une date écrite AAAA-MM-JJ",
    ),
    (
        "missing field",
        "track: entrepreneurship\n",
        "",
        None,
        "champ obligatoire « track » manquant",
    ),
    (
        "field written twice",
        "valid_until: null",
        "valid_until: null\nverified_on: 2026-11-01",
        "verified_on: 2026-11-01",
        "verified_on écrit deux fois",
    ),
    (
        "inconsistent bounds",
        "  age_min: 18",
        "  age_min: 18\n  age_max: 16",
        "eligibility:",
        "age_min (18) est plus grand que age_max (16)",
    ),
    (
        "unknown commune",
        "  residence: national",
        "  residence:\n    communes: [ain-harouda]",
        "ain-harouda",
        "« ain-harouda » inconnu de bot/orientation/geography.yml"
        " (vouliez-vous dire « ain-harrouda » ?)",
    ),
    (
        "untranslated point",
        "    - Fih min7a tal ta9riban 10000 DH\n",
        "",
        "gives:",
        "gives : chaque point doit être traduit",
    ),
]


@pytest.mark.parametrize(
    "old, new, marker, expected", [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_broken_file_is_refused_with_file_line_and_field(
    tmp_path, capsys, old, new, marker, expected
):
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    write_sample(tmp_path, broken)

    assert main(["catalog", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    where = (
        f"sample.yml, ligne {line_number(broken, marker)} : " if marker else "sample.yml, ligne "
    )
    assert any(
        line.startswith("ERREUR") and where in line and expected in line
        for line in out.splitlines()
    ), out
    assert load_catalog(tmp_path, today=TODAY).catalog.programs == {}


def test_exact_wording_of_a_type_error(tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("id: sample", "id: forsa").replace("  age_min: 18", "  age_min: dix-huit")
    write_sample(tmp_path, text, name="forsa.yml")
    [error] = load_catalog(tmp_path, today=TODAY).errors
    line = line_number(text, "age_min:")
    assert (
        str(error) == f"forsa.yml, ligne {line} : age_min doit être un nombre (reçu « dix-huit »)"
    )
    assert error.field == "eligibility.age_min"


def test_duplicate_id_is_refused_on_the_copy(tmp_path, capsys):
    write_sample(tmp_path)
    write_sample(tmp_path, name="sample-copy.yml")
    assert main(["catalog", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    line = line_number(SAMPLE.read_text(encoding="utf-8"), "id:")
    assert f"sample-copy.yml, ligne {line} : id « sample » déjà utilisé dans sample.yml" in out
    assert list(load_catalog(tmp_path, today=TODAY).catalog.programs) == ["sample"]


def test_one_broken_file_does_not_hide_the_others(tmp_path):
    shutil.copytree(CATALOG_DIR, tmp_path / "catalog")
    forsa = tmp_path / "catalog" / "forsa.yml"
    forsa.write_text(forsa.read_text(encoding="utf-8").replace("track:", "trak:"), "utf-8")
    load = load_catalog(tmp_path / "catalog", today=TODAY)
    assert {issue.file for issue in load.errors} == {"forsa.yml"}
    assert len(load.catalog) == 23 and "forsa" not in load.catalog


def test_empty_and_non_mapping_files(tmp_path):
    write_sample(tmp_path, "", name="empty.yml")
    write_sample(tmp_path, "- just\n- a list\n", name="list.yml")
    messages = [str(issue) for issue in load_catalog(tmp_path, today=TODAY).errors]
    assert "empty.yml : le fichier est vide" in messages
    assert any(
        message.startswith("list.yml, ligne 1 : le fichier doit contenir") for message in messages
    )


@pytest.mark.parametrize(
    "old, new, marker, expected",
    [
        (
            "verified_on: 2026-11-23",
            "verified_on: 2025-10-01",
            "verified_on:",
            # 6 months by default since issue 18 (BOUSLA_CATALOG_STALE_MONTHS).
            "informations vérifiées le 2025-10-01, il y a plus de 6 mois",
        ),
        (
            "valid_until: null",
            "valid_until: 2026-06-30",
            "valid_until:",
            "valid_until 2026-06-30 dépassée",
        ),
    ],
    ids=["stale", "past valid_until"],
)
def test_stale_information_gives_a_warning_not_an_error(
    tmp_path, capsys, old, new, marker, expected
):
    text = SAMPLE.read_text(encoding="utf-8").replace(old, new)
    write_sample(tmp_path, text)
    assert main(["catalog", "validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"ATTENTION  sample.yml, ligne {line_number(text, marker)} : {expected}" in out
    load = load_catalog(tmp_path, today=TODAY)
    assert load.ok and "sample" in load.catalog


def test_missing_directory_is_an_error(tmp_path, capsys):
    assert main(["catalog", "validate", str(tmp_path / "nowhere")]) == 1
    assert "dossier du catalogue introuvable" in capsys.readouterr().out


def test_readme_template_is_a_valid_programme(tmp_path):
    """The commented template of orientation_catalog/README.md must pass the checks."""
    readme = (CATALOG_DIR / "README.md").read_text(encoding="utf-8")
    template = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    write_sample(tmp_path, template, name="exemple-programme.yml")
    load = load_catalog(tmp_path, today=TODAY)
    assert load.ok and not load.warnings, [str(issue) for issue in load.issues]
    program = load.catalog.get("exemple-programme")
    assert program.eligibility.residence.is_national
    assert program.eligibility.goals == ["job", "training"]
    assert program.aliases.ary_latn == ["mital", "mitel"]  # the names section (issue 16)


# ------------------------------------------------------------------ status, instead, names
def sample_with(*edits: tuple[str, str]) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


STATUS_NOTE = """status_note:
  fr: Ce programme s'est arrêté en 2023.
  ary: هاد البرنامج وقف ف 2023.
  ary_latn: Had lbarnamaj wa9ef f 2023.
"""


@pytest.mark.parametrize(
    "edits, marker, expected",
    [
        (
            [("status: to_confirm", "status: ended")],
            "status:",
            "status ended : programme terminé, ajoutez status_note",
        ),
        (
            [("status: to_confirm", "status: paused")],
            "status:",
            "status paused : programme en pause, ajoutez status_note",
        ),
        (
            [("valid_until: null", "valid_until: null\ninstead: [sampel]")],
            "instead:",
            "instead : programme « sampel » inconnu",
        ),
        (
            [("valid_until: null", "valid_until: null\ninstead: [sample]")],
            "instead:",
            "instead : « sample » est ce même programme",
        ),
        (
            [("valid_until: null", "valid_until: null\naliases:\n  fr: [programme]")],
            "fr: [programme]",
            "alias « programme » trop général",
        ),
        (
            [("valid_until: null", "valid_until: null\naliases:\n  ary: [forsa]")],
            "ary: [forsa]",
            "alias 1 (« forsa ») doit être écrit en lettres arabes",
        ),
        (
            [
                (
                    "valid_until: null",
                    "valid_until: null\naliases:\n  fr: [Forsa]\n  needs_context: [chance]",
                )
            ],
            "needs_context:",
            "needs_context : « chance » n'est ni le nom ni un alias de ce programme",
        ),
    ],
    ids=[
        "ended without status_note",
        "paused without status_note",
        "instead unknown",
        "instead itself",
        "alias too general",
        "alias in the wrong script",
        "needs_context not an alias",
    ],
)
def test_status_and_names_mistakes_are_refused_in_french(tmp_path, capsys, edits, marker, expected):
    text = sample_with(*edits)
    write_sample(tmp_path, text)
    assert main(["catalog", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    where = f"sample.yml, ligne {line_number(text, marker)} : "
    assert any(
        line.startswith("ERREUR") and where in line and expected in line
        for line in out.splitlines()
    ), out


def test_a_closed_programme_with_its_note_and_alternative_is_valid(tmp_path):
    write_sample(tmp_path, name="other.yml", text=sample_with(("id: sample", "id: other")))
    closed = sample_with(
        ("status: to_confirm", "status: ended"),
        ("valid_until: null", "valid_until: null\n" + STATUS_NOTE + "instead: [other]"),
        ("  fr: Programme Forsa", "  fr: Programme Forsa 2022"),
        ("  ary: برنامج فرصة", "  ary: برنامج فرصة 2022"),
        ("  ary_latn: Barnamaj Forsa", "  ary_latn: Barnamaj Forsa 2022"),
    )
    write_sample(tmp_path, closed)
    load = load_catalog(tmp_path, today=TODAY)
    assert load.ok, [str(issue) for issue in load.issues]
    program = load.catalog.get("sample")
    assert program.status_note.get("ary_latn") == "Had lbarnamaj wa9ef f 2023."
    assert program.instead == ["other"]


def test_instead_must_name_an_open_programme(tmp_path):
    paused = sample_with(
        ("id: sample", "id: other"),
        ("status: to_confirm", "status: paused"),
        ("valid_until: null", "valid_until: null\n" + STATUS_NOTE),
        ("  fr: Programme Forsa", "  fr: Autre programme"),
        ("  ary: برنامج فرصة", "  ary: برنامج آخر"),
        ("  ary_latn: Barnamaj Forsa", "  ary_latn: Barnamaj akhor"),
    )
    write_sample(tmp_path, paused, name="other.yml")
    write_sample(
        tmp_path, sample_with(("valid_until: null", "valid_until: null\ninstead: [other]"))
    )
    messages = [str(issue) for issue in load_catalog(tmp_path, today=TODAY).errors]
    assert any(
        "sample.yml" in m and "instead : « other » n'est pas ouvert (status paused)" in m
        for m in messages
    ), messages


def test_an_alias_shared_by_two_programmes_is_refused_on_the_second(tmp_path):
    write_sample(
        tmp_path,
        sample_with(("valid_until: null", "valid_until: null\naliases:\n  ary_latn: [fursa]")),
    )
    other = sample_with(
        ("id: sample", "id: zz-other"),
        ("  fr: Programme Forsa", "  fr: Autre programme"),
        ("  ary: برنامج فرصة", "  ary: برنامج آخر"),
        ("  ary_latn: Barnamaj Forsa", "  ary_latn: Barnamaj akhor"),
        ("valid_until: null", "valid_until: null\naliases:\n  fr: [Foursa]"),
    )
    write_sample(tmp_path, other, name="zz-other.yml")
    errors = load_catalog(tmp_path, today=TODAY).errors
    assert [issue.file for issue in errors] == ["zz-other.yml"]
    assert "« Foursa » désigne déjà le programme sample (« fursa »)" in str(errors[0])
    assert str(errors[0]).startswith(f"zz-other.yml, ligne {line_number(other, 'fr: [Foursa]')}")


def test_the_shipped_names_are_unique(tmp_path):
    """No name or alias of the shipped catalogue names two programmes (checked by validate)."""
    load = load_catalog(CATALOG_DIR, today=TODAY)
    assert not [issue for issue in load.errors if "désigne déjà" in issue.message]


def test_stale_age_is_a_setting(tmp_path, monkeypatch, capsys):
    """BOUSLA_CATALOG_STALE_MONTHS: 6 by default; a staff member can choose 3 or 12."""
    from bot.settings import get_settings

    text = sample_with(("verified_on: 2026-11-23", "verified_on: 2026-08-01"))
    write_sample(tmp_path, text)
    assert not load_catalog(tmp_path, today=TODAY).warnings  # 4 months: fresh
    monkeypatch.setenv("BOUSLA_CATALOG_STALE_MONTHS", "3")
    get_settings.cache_clear()
    try:
        [warning] = load_catalog(tmp_path, today=TODAY).warnings
        assert "il y a plus de 3 mois" in warning.message
        assert warning.line == line_number(text, "verified_on:")
    finally:
        monkeypatch.delenv("BOUSLA_CATALOG_STALE_MONTHS")
        get_settings.cache_clear()


def test_a_date_about_to_pass_is_announced(tmp_path):
    text = sample_with(("valid_until: null", "valid_until: 2026-12-20"))
    write_sample(tmp_path, text)
    [warning] = load_catalog(tmp_path, today=TODAY).warnings
    assert warning.message.startswith("valid_until 2026-12-20 dans 13 jour(s)")
    [expired] = load_catalog(tmp_path, today=date(2026, 12, 21)).warnings
    assert expired.message.startswith("valid_until 2026-12-20 dépassée : Bousla ne propose plus")


def test_a_key_that_is_not_a_name_is_an_error_not_a_crash(tmp_path):
    """Found by fuzzing: a lone `?` (YAML's key marker) or `1:` read as a key that is not a
    name, and the loader raised instead of saying what is wrong."""
    write_sample(tmp_path, "?\n", name="question.yml")
    write_sample(tmp_path, SAMPLE.read_text(encoding="utf-8") + "1: un\n", name="number.yml")
    messages = [str(issue) for issue in load_catalog(tmp_path, today=TODAY).errors]
    assert (
        "question.yml : un champ doit commencer par son nom (« nom: valeur »), pas par « ? »"
        in messages
    )
    assert any(m.startswith("number.yml : un champ doit commencer par son nom") for m in messages)
