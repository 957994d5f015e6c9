"""Reading the answers to the profile questions: French, Darija in Arabic script and in Latin
letters, Latin and Arabic-Indic digits (table tests of bot/orientation/profile_answers.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.orientation.profile_answers import NOT_UNDERSTOOD, UNKNOWN, parse, parse_age, says_unknown

TODAY = date(2026, 11, 23)

UNDERSTOOD = [
    # --- age
    ("age", "22", 22),
    ("age", "22 ans", 22),
    ("age", "22ans", 22),
    ("age", "j'ai 24 ans et 2 enfants", 24),
    ("age", "3andi 22 3am", 22),
    ("age", "3andi 3ichrin 3am", 20),
    ("age", "khamsa w 3chrin", 25),
    ("age", "عندي 22 عام", 22),
    ("age", "٢٢", 22),
    ("age", "عندي ١٩ سنة", 19),
    ("age", "خمسة وعشرين", 25),
    ("age", "vingt-deux", 22),
    ("age", "j'ai dix-neuf ans", 19),
    ("age", 31, 31),
    # --- education
    ("education", "bac+2", "bac+2"),
    ("education", "Bac + 2", "bac+2"),
    ("education", "BTS commerce", "bac+2"),
    ("education", "licence en droit", "bac+3"),
    ("education", "master", "bac+5"),
    ("education", "j'ai le bac", "bac"),
    ("education", "lbac", "bac"),
    ("education", "الباك", "bac"),
    ("education", "niveau bac", "lycee"),
    ("education", "sans bac", "lycee"),
    ("education", "ma khditch lbac", "lycee"),
    ("education", "je passe le bac cette année", "lycee"),
    ("education", "ثانوي", "lycee"),
    ("education", "collège", "college"),
    ("education", "i3dadi", "college"),
    ("education", "3ème année collège", "college"),
    ("education", "primaire", "primary"),
    ("education", "الابتدائي", "primary"),
    ("education", "ma 9ritch", "none"),
    ("education", "ma9ritch", "none"),
    ("education", "ما قريتش", "none"),
    ("education", "jamais allé à l'école", "none"),
    ("education", "none", "none"),  # button payload / NLU entity value
    # --- situation
    ("situation", "mazal kan9ra", "student"),
    ("situation", "مازال كنقرا", "student"),
    ("situation", "étudiante", "student"),
    ("situation", "je suis au chômage", "job_seeker"),
    ("situation", "ma khdamch", "job_seeker"),
    ("situation", "ما كنخدمش", "job_seeker"),
    ("situation", "je ne travaille pas", "job_seeker"),
    ("situation", "kankhdem f usine", "employed"),
    ("situation", "خدام", "employed"),
    ("situation", "je travaille à mon compte", "self_employed"),
    ("situation", "khddam 3la rassi", "self_employed"),
    ("situation", "ma kan9rach w ma khdamch", "not_in_school"),
    ("situation", "ما كندير والو", "not_in_school"),
    ("situation", "je fais rien", "not_in_school"),
    ("situation", "job_seeker", "job_seeker"),
    # --- goal
    ("goal", "un travail", "job"),
    ("goal", "khdma", "job"),
    ("goal", "تكوين", "training"),
    ("goal", "lancer mon projet", "project"),
    ("goal", "machrou3", "project"),
    ("goal", "bghit flous l machrou3", "financing"),
    # --- commune
    ("commune", "Aïn Harrouda", "ain-harrouda"),
    ("commune", "3in 7rouda", "ain-harrouda"),
    ("commune", "عين حرودة", "ain-harrouda"),
    ("commune", "ana saken f lmo7ammadia", "mohammedia"),
    ("commune", "ain-harrouda", "ain-harrouda"),  # NLU entity value (slug)
    # --- project stage
    ("project_stage", "juste une idée", "idea"),
    ("project_stage", "mazal ma bdit", "idea"),
    ("project_stage", "غير فكرة", "idea"),
    ("project_stage", "j'ai déjà commencé", "started"),
    ("project_stage", "bdit", "started"),
    ("project_stage", "l'activité existe depuis 2 ans", "existing"),
    # --- sector (catalogue codes; NLU values commerce/beauty/textile/transport mapped)
    ("sector", "couture", "crafts"),
    ("sector", "khiyata", "crafts"),
    ("sector", "الخياطة", "crafts"),
    ("sector", "un snack", "food"),
    ("sector", "élevage de poulets", "agriculture"),
    ("sector", "fla7a", "agriculture"),
    ("sector", "développement web", "digital"),
    ("sector", "تعاونية", "social_economy"),
    ("sector", "commerce", "trade"),
    ("sector", "beauty", "services"),
    # --- amount in DH
    ("amount", "50000", 50_000),
    ("amount", "50 000 DH", 50_000),
    ("amount", "50.000 dh", 50_000),
    ("amount", "50k", 50_000),
    ("amount", "50 alf", 50_000),
    ("amount", "khamsin alf", 50_000),
    ("amount", "خمسين ألف", 50_000),
    ("amount", "١٠٠٠٠٠ درهم", 100_000),
    ("amount", "5 melyoun", 50_000),  # 5 million centimes
    ("amount", "5 مليون", 50_000),
    ("amount", "5 millions de centimes", 50_000),
    ("amount", "melyoun w nss", 15_000),
    ("amount", "100 alf ryal", 5_000),  # rials of 5 centimes
    ("amount", "1 million de dirhams", 1_000_000),
    ("amount", "500 000 DH", 500_000),
    ("amount", "entre 20000 et 40000 dh", 40_000),
    ("amount", "walo", 0),
    # --- consent
    ("profile_consent", "oui", True),
    ("profile_consent", "wakha", True),
    ("profile_consent", "واخا", True),
    ("profile_consent", "ok 👍", True),
    ("profile_consent", True, True),
    ("profile_consent", "non merci", False),
    ("profile_consent", "la", False),
    ("profile_consent", "لا", False),
    ("profile_consent", "ma bghitch", False),
]


@pytest.mark.parametrize(("field", "text", "expected"), UNDERSTOOD)
def test_answers_are_understood(field, text, expected):
    answer = parse(field, text) if field != "age" else parse_age(text, TODAY)
    assert answer.value == expected and not answer.unknown


NOT_UNDERSTOOD_ANSWERS = [
    ("age", "-3"),
    ("age", "age -3"),
    ("age", "200"),
    ("age", "bzaf"),
    ("age", "5"),
    ("education", "bzaf"),
    ("situation", "bzaf"),
    ("goal", "bzaf"),
    ("commune", "Tiznit"),  # a real place, unknown to Bousla's geography
    ("commune", "bzaf"),
    ("project_stage", "bzaf"),
    ("sector", "pharmacie"),
    ("amount", "bzaf"),
    ("amount", "50"),  # 50 DH: surely not the whole need; asked again with an example
    ("profile_consent", "bzaf"),
]


@pytest.mark.parametrize(("field", "text"), NOT_UNDERSTOOD_ANSWERS)
def test_bad_answers_are_not_understood(field, text):
    assert parse(field, text) == NOT_UNDERSTOOD


DONT_KNOW = [
    "je sais pas",
    "Je ne sais pas",
    "jsp",
    "skip",
    "je passe",
    "ma3rftch",
    "ma3reftch",
    "ma n3ref",
    "ma 3ndi fikra",
    "ما عرفتش",
    "ما نعرف",
    "دوز",
]


@pytest.mark.parametrize("text", DONT_KNOW)
@pytest.mark.parametrize(
    "field", ["age", "education", "situation", "commune", "project_stage", "sector", "amount"]
)
def test_i_dont_know_skips_the_question(field, text):
    assert parse(field, text) == UNKNOWN


def test_skip_words_count_only_as_a_whole_answer():
    assert says_unknown("passer")
    assert not says_unknown("je passe le bac")
    assert parse("education", "je passe le bac").value == "lycee"


def test_a_birth_year_gives_the_age():
    assert parse_age("je suis née en 2004", TODAY).value == 22
    assert parse_age("tzadit f 2001", TODAY).value == 25


def test_arabizi_digits_are_letters_not_numbers():
    # "3" in "3andi" and "3am" is the letter ع: only 22 is a number here.
    assert parse_age("3andi 22 3am", TODAY).value == 22
    assert parse_age("3andi bzaf d snin", TODAY) == NOT_UNDERSTOOD
