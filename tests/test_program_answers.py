"""Answering about one programme by name (issue 18 item 2, issue 16 item 1):
`describe_for_person` says whether it is open, what happened when it is not, whether it fits
this person and why, and where to go instead, in the person's language and script."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.orientation.matching import Profile, describe_for_person, describe_named

TODAY = date(2026, 12, 7)
CATALOG = load_catalog(PROJECT_ROOT / "orientation_catalog", today=TODAY).catalog
ARABIC = re.compile(r"[\u0600-\u06FF]")
AIN_HARROUDA_JOB_SEEKER = Profile(
    age=22, education="college", situation="not_in_school", goal="job", commune="ain-harrouda"
)


def describe(program_id, profile=AIN_HARROUDA_JOB_SEEKER, today=TODAY, language="fr"):
    return describe_for_person(program_id, profile, CATALOG, today, language)


def test_an_ended_programme_says_what_happened_and_where_to_go():
    answer = describe("smart-initiatives")
    assert answer.status == "ended" and not answer.is_open
    assert answer.status_note.startswith("Ce programme s'est terminé en 2022")
    ids = [alternative.id for alternative in answer.alternatives]
    assert ids[0] == "indh-plateforme-jeunes-mohammedia"  # open, and it fits her
    assert answer.alternatives[0].fits
    assert answer.caution is None  # no "à vérifier": it is closed


def test_a_paused_programme_in_the_three_scripts():
    for language in ("fr", "ary", "ary_latn"):
        answer = describe("awrach", language=language)
        assert answer.status == "paused"
        if language == "ary":
            assert ARABIC.search(answer.status_note) and ARABIC.search(answer.name)
        else:
            assert not ARABIC.search(answer.status_note + answer.name)
        assert [a.id for a in answer.alternatives][:2] == [
            "tadarroj-apprentissage",
            "anapec-idmaj",
        ]
    latn = describe("forsa", language="ary_latn")
    assert "forsa.ma" in latn.status_note and "2023" in latn.status_note


def test_an_open_programme_that_fits_says_why():
    answer = describe("tadarroj-apprentissage")
    assert answer.status == "open" and answer.fits and answer.serves_goal
    assert "ton niveau (collège) est accepté" in answer.reasons
    assert "tu as 22 ans, le programme accepte 15 ans et plus" in answer.reasons
    assert answer.missing == [] and answer.alternatives == []
    assert answer.caution.startswith("à vérifier auprès de l'organisme")  # its points


def test_an_open_programme_that_does_not_fit_says_why_not_and_what_fits():
    graduate = Profile(age=23, education="bac+2", situation="job_seeker", goal="job")
    answer = describe("tadarroj-apprentissage", graduate)
    assert answer.status == "open" and not answer.fits
    assert answer.missing == ["c'est pour un niveau jusqu'à lycée (toi : bac+2)"]
    assert answer.alternatives and all(alternative.fits for alternative in answer.alternatives)
    assert "anapec-idmaj" in [alternative.id for alternative in answer.alternatives]


@pytest.mark.parametrize(
    "program_id, profile, expected",
    [
        ("ecole-deuxieme-chance", Profile(age=22), "c'est jusqu'à 18 ans (tu as 22 ans)"),
        (
            "indh-plateforme-jeunes-mohammedia",
            Profile(age=22, commune="casablanca"),
            "réservé aux habitants de : préfecture de Mohammedia (toi : Casablanca)",
        ),
        (
            "anapec-idmaj",
            Profile(age=19, situation="student"),
            "c'est pour les chercheurs d'emploi, jeunes sortis de l'école",
        ),
        (
            "ofppt",
            Profile(age=19, education="none"),
            "il faut au moins le niveau primaire (toi : sans scolarité)",
        ),
    ],
    ids=["age", "commune", "situation", "schooling"],
)
def test_each_rule_is_explained(program_id, profile, expected):
    answer = describe(program_id, profile)
    assert not answer.fits
    assert expected in answer.missing


def test_the_goal_is_said_too():
    answer = describe("intelaka")  # a bank loan, for someone looking for a job
    assert answer.serves_goal is False
    assert (
        "il sert surtout à financer ton projet, lancer ton projet (toi, tu veux trouver un travail)"
        in answer.missing
    )


def test_what_to_ask_when_the_profile_is_unknown():
    answer = describe("indh-plateforme-jeunes-mohammedia", Profile())
    assert answer.fits and answer.serves_goal is None
    assert answer.to_know == ["age", "commune"]


def test_valid_until_on_the_day():
    company = Profile(age=30, goal="project", project_stage="started")
    assert describe("anapec-tahfiz", company, today=date(2026, 12, 31)).status == "open"
    expired = describe("anapec-tahfiz", company, today=date(2027, 1, 1), language="ary_latn")
    assert expired.status == "expired"
    assert expired.status_note == "kan mftou7 tal 31/12/2026, w had tarikh fat"
    assert expired.alternatives and all(a.fits for a in expired.alternatives)


def test_asked_in_a_message():
    [answer] = describe_named(
        "kifach ntsjel f awrach?", AIN_HARROUDA_JOB_SEEKER, CATALOG, TODAY, "ary_latn"
    )
    assert answer.id == "awrach" and answer.status == "paused"
    assert describe_named("bghit chi forsa dyal khdma", Profile(), CATALOG, TODAY) == []


def test_answer_as_dict_for_the_conversation_side():
    data = describe("forsa", language="ary").as_dict()
    assert data["status"] == "paused" and data["id"] == "forsa"
    assert {"status_note", "fits", "reasons", "missing", "to_know", "alternatives"} <= data.keys()
    assert data["verified_on"] == "2026-12-07"


def test_unknown_id():
    with pytest.raises(KeyError):
        describe("nope")
