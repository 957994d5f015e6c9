"""Programmes named in a message (issue 16 item 1): `bot.catalog.names.find_programmes` reads
the names and aliases of the catalogue itself, in French, Darija in Arabic script and Darija
in Latin letters, with glued prefixes and spelling variants, and does not fire on ordinary
words ("forsa" = "a chance")."""

from __future__ import annotations

from datetime import date

import pytest

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.catalog.names import find_mentions, find_programmes, fold, skeleton

TODAY = date(2026, 12, 7)
CATALOG = load_catalog(PROJECT_ROOT / "orientation_catalog", today=TODAY).catalog

NAMED = [
    # French
    ("c'est quoi forsa ?", "forsa"),
    ("les papiers pour l'OFPPT", "ofppt"),
    ("Comment s'inscrire à l'école de la deuxième chance ?", "ecole-deuxieme-chance"),
    ("je cherche la maison des jeunes", "maison-des-jeunes"),
    ("Réseau Entreprendre, c'est pour qui ?", "reseau-entreprendre-maroc"),
    ("la plateforme des jeunes INDH", "indh-plateforme-jeunes-mohammedia"),
    ("statut auto-entrepreneur", "auto-entrepreneur"),
    ("c'est quoi l'apprentissage ?", "tadarroj-apprentissage"),
    ("CoopStore", "fondation-ocp-cooperatives"),
    # Darija, Latin letters (Arabizi)
    ("kifach ntsjel f awrach?", "awrach"),
    ("ma3loumat 3la awrach", "awrach"),
    ("chno howa programme forsa", "forsa"),
    ("w forsa? sm3t 3liha f tiktok", "forsa"),
    ("lforsa", "forsa"),
    ("wach forsa mazal kayna", "forsa"),
    ("forsa.ma", "forsa"),
    ("chno hiya intilaka", "intelaka"),
    ("sm3t b intila9a", "intelaka"),
    ("INTELAKA", "intelaka"),
    ("ta2hil dyal anapec", "anapec-taehil"),
    ("fin kayna dar chbab", "maison-des-jeunes"),
    ("flofppt wach kayn takwin", "ofppt"),
    ("bghit nsjjel f tadaroj", "tadarroj-apprentissage"),
    ("odco", "odco-cooperative"),
    ("chno howa takwin mihani?", "ofppt"),
    # Darija, Arabic script
    ("شنو هي فرصة؟", "forsa"),
    ("فالأوراش", "awrach"),
    ("كيفاش نتسجل ف أوراش", "awrach"),
    ("لفرصة", "forsa"),
    ("انطلاقة", "intelaka"),
    ("إنْطِلاقَة شنو هي", "intelaka"),
    ("بغيت نتسجل ف تدرج", "tadarroj-apprentissage"),
    ("التكوين بالتدرج المهني", "tadarroj-apprentissage"),
    ("فين كاينة دار الشباب", "maison-des-jeunes"),
    ("مكتب تنمية التعاون", "odco-cooperative"),
    ("شنو هو إدماج", "anapec-idmaj"),
    ("المبادرة الوطنية للتنمية البشرية", "indh-programme-3"),
]


@pytest.mark.parametrize("text, program_id", NAMED, ids=[text for text, _ in NAMED])
def test_a_programme_is_recognised_by_its_names(text, program_id):
    assert find_programmes(text, CATALOG) == [program_id]


NOT_NAMED = [
    "bghit chi forsa dyal khdma",  # "I want a job opportunity"
    "3tini forsa",  # "give me a chance"
    "wach kayna chi forsa dyal khdma?",
    "had l forsa ma tfawtch",
    "بغيت شي فرصة ديال الخدمة",
    "عطيني فرصة",
    "khdemt f awrach dyal lbni",  # worked on building sites
    "3tih forsa tanya",  # "give him another chance", not the second-chance school
    "bghit takwin mihani",  # a wish for training, not a question about OFPPT
    "je cherche un apprentissage",
    "telephone smart",
    "salam, bghit nkhdem",
    "ma kan9ra ma kankhdem",
    "kifach ndir ta3awniya",  # a cooperative: ODCO is for the ranking, not a name
    "",
]


@pytest.mark.parametrize("text", NOT_NAMED)
def test_ordinary_words_are_not_read_as_programmes(text):
    assert find_programmes(text, CATALOG) == []


def test_several_programmes_in_reading_order_and_longest_name_first():
    assert find_programmes("Idmaj w Taehil", CATALOG) == ["anapec-idmaj", "anapec-taehil"]
    # "plateforme des jeunes INDH" is the platform, not also INDH programme 3.
    mentions = find_mentions("la plateforme des jeunes INDH de Mohammedia", CATALOG)
    assert [m.program_id for m in mentions] == ["indh-plateforme-jeunes-mohammedia"]
    assert find_programmes("INDH w forsa?", CATALOG) == ["indh-programme-3", "forsa"]


def test_closed_programmes_are_still_recognised():
    """A question about an ended programme is answered (describe_for_person says so)."""
    assert find_programmes("w SMarT Initiatives?", CATALOG) == ["smart-initiatives"]
    assert find_programmes("maroc impact", CATALOG) == ["maroc-impact-sac"]


def test_folding_and_spelling_skeletons():
    assert fold("Ç'EST l’OFPPT !!") == "c est l ofppt"
    assert fold("إنْطِلاقَة") == "انطلاقه"
    assert skeleton("intila9a") == skeleton("intelaka") == skeleton("intilaqa")
    assert skeleton("ta2hil") == skeleton("taehil")
    assert skeleton("awrash") == skeleton("ourach") == skeleton("awrach")
    assert skeleton("e2c") == "e2c"  # short words only match exactly


def test_a_programme_added_by_staff_is_recognised_at_once(tmp_path):
    """The names come from the files: no training, no code change."""
    import shutil

    directory = tmp_path / "catalog"
    shutil.copytree(PROJECT_ROOT / "orientation_catalog", directory)
    text = (PROJECT_ROOT / "tests" / "catalog_fixtures" / "sample.yml").read_text("utf-8")
    text = text.replace("Forsa", "Nejma").replace("فرصة", "نجمة")
    text = text.replace("valid_until: null", "valid_until: null\naliases:\n  ary_latn: [nejma]")
    (directory / "sample.yml").write_text(text, "utf-8")
    load = load_catalog(directory, today=TODAY)
    assert load.ok, [str(issue) for issue in load.errors]
    assert find_programmes("chno hiya nejma?", load.catalog) == ["sample"]
    assert find_programmes("برنامج نجمة", load.catalog) == ["sample"]
