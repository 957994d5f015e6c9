"""Matching on the shipped catalogue: realistic profiles, with the programmes that must (and
must not) be in the top 5, plus the wording of reasons and cautions in the three languages."""

from __future__ import annotations

import json
import re
import shlex
from datetime import date

import pytest

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.cli import main
from bot.orientation.matching import Profile, default_phrasebook, match

TODAY = date(2026, 11, 23)
CATALOG = load_catalog(PROJECT_ROOT / "orientation_catalog", today=TODAY).catalog
YOUTH_ONLY = {
    "indh-programme-3",
    "smart-initiatives",
    "cite-des-metiers-casablanca-settat",
    "ofppt",
    "ecole-deuxieme-chance",
}


def top(profile: Profile, limit: int = 5, language: str = "fr") -> list[str]:
    return match(profile, CATALOG, language, limit=limit, today=TODAY).ids


# (description, profile, must be in the top 5, must not be in the top 5)
PROFILES = [
    (
        "16, out of school, wants training",
        Profile(age=16, situation="not_in_school", goal="training"),
        {"ecole-deuxieme-chance"},
        {"intelaka", "forsa", "indh-programme-3", "auto-entrepreneur"},
    ),
    (
        "16, out of school, goal unknown",
        Profile(age=16, situation="not_in_school"),
        {"ecole-deuxieme-chance"},
        {"intelaka", "forsa"},
    ),
    (
        "14, left school, wants a job",
        Profile(age=14, situation="not_in_school", goal="job", education="primary"),
        {"ecole-deuxieme-chance"},
        {"intelaka", "cite-des-metiers-casablanca-settat"},
    ),
    (
        "24, bac, looking for work",
        Profile(age=24, education="bac", situation="job_seeker", goal="job"),
        {"anapec-idmaj"},
        {"ecole-deuxieme-chance", "intelaka", "forsa"},
    ),
    (
        "24, bac, looking for work, lives in Ain Harrouda",
        Profile(
            age=24, education="bac", situation="job_seeker", goal="job", commune="ain-harrouda"
        ),
        {"anapec-idmaj", "smart-initiatives"},
        {"ecole-deuxieme-chance"},
    ),
    (
        "40, small project idea",
        Profile(age=40, goal="project", project_stage="idea"),
        {"forsa", "auto-entrepreneur"},
        YOUTH_ONLY,
    ),
    (
        "women's cooperative already producing",
        Profile(age=30, goal="project", project_stage="existing", sector="social_economy"),
        {"odco-cooperative", "indh-programme-3", "maroc-impact-sac"},
        {"forsa", "auto-entrepreneur", "moubadara-pret-honneur"},
    ),
    (
        "women's cooperative idea",
        Profile(age=27, goal="project", project_stage="idea", sector="social_economy"),
        {"odco-cooperative", "indh-programme-3"},
        {"maroc-impact-sac", "anapec-tahfiz"},
    ),
    (
        "existing company needing 500,000 DH",
        Profile(age=32, goal="financing", project_stage="existing", amount=500_000),
        {"intelaka"},
        {"moubadara-pret-honneur", "forsa", "reseau-entreprendre-maroc"},
    ),
    (
        "45, existing shop needing 200,000 DH",
        Profile(age=45, goal="financing", project_stage="existing", amount=200_000, sector="trade"),
        {"intelaka"},
        {"indh-programme-3", "moubadara-pret-honneur", "smart-initiatives"},
    ),
    (
        "22, idea, needs 30,000 DH",
        Profile(age=22, goal="financing", project_stage="idea", amount=30_000),
        {"moubadara-pret-honneur", "forsa"},
        {"reseau-entreprendre-maroc", "ofppt"},
    ),
    (
        "27, started, needs 80,000 DH",
        Profile(age=27, goal="financing", project_stage="started", amount=80_000),
        {"reseau-entreprendre-maroc", "moubadara-pret-honneur", "forsa"},
        {"maison-des-jeunes", "awrach"},
    ),
    (
        "21, idea, needs 5,000 DH",
        Profile(age=21, goal="financing", project_stage="idea", amount=5_000),
        {"forsa"},
        {"moubadara-pret-honneur", "reseau-entreprendre-maroc"},
    ),
    (
        "24, existing trade needing 150,000 DH",
        Profile(age=24, goal="project", project_stage="existing", sector="trade", amount=150_000),
        {"intelaka"},
        {"forsa", "auto-entrepreneur", "moubadara-pret-honneur"},
    ),
    (
        "19, lycée student, wants training",
        Profile(age=19, education="lycee", situation="student", goal="training"),
        {"ofppt", "cite-des-metiers-casablanca-settat"},
        {"ecole-deuxieme-chance", "anapec-taehil", "intelaka"},
    ),
    (
        "28, licence, employed, wants training",
        Profile(age=28, education="bac+3", situation="employed", goal="training"),
        {"ofppt"},
        {"anapec-taehil", "ecole-deuxieme-chance"},
    ),
    (
        "33, bac+2, job seeker, wants training",
        Profile(age=33, education="bac+2", situation="job_seeker", goal="training"),
        {"anapec-taehil"},
        {"ofppt", "cite-des-metiers-casablanca-settat", "ecole-deuxieme-chance"},
    ),
    (
        "20, never went to school, job seeker",
        Profile(age=20, education="none", situation="job_seeker", goal="job"),
        {"awrach", "anapec-idmaj"},
        {"ofppt", "intelaka"},
    ),
    (
        "25, wants to talk, Ain Harrouda",
        Profile(age=25, goal="listening", commune="ain-harrouda"),
        {"smart-initiatives", "maison-des-jeunes"},
        {"intelaka", "forsa", "anapec-idmaj"},
    ),
    (
        "18, wants to talk",
        Profile(age=18, goal="listening"),
        {"maison-des-jeunes", "entraide-nationale", "fondation-zakoura"},
        {"intelaka", "awrach"},
    ),
    (
        "29, lives in Casablanca, wants to talk",
        Profile(age=29, goal="listening", commune="casablanca"),
        {"maison-des-jeunes"},
        {"smart-initiatives"},
    ),
    (
        "22, lives in Rabat, wants training",
        Profile(age=22, goal="training", commune="rabat"),
        {"ofppt"},
        {"cite-des-metiers-casablanca-settat", "smart-initiatives"},
    ),
    (
        "22, lives in Mohammedia, wants training",
        Profile(age=22, goal="training", commune="mohammedia"),
        {"cite-des-metiers-casablanca-settat", "ofppt"},
        {"intelaka"},
    ),
    (
        "23, Sidi Moussa Ben Ali, wants a job",
        Profile(age=23, goal="job", situation="job_seeker", commune="sidi-moussa-ben-ali"),
        {"smart-initiatives", "anapec-idmaj"},
        {"forsa"},
    ),
    (
        "26, self-employed, wants to formalise",
        Profile(age=26, situation="self_employed", goal="project", project_stage="started"),
        {"auto-entrepreneur"},
        {"ecole-deuxieme-chance", "anapec-idmaj"},
    ),
    (
        "35, project idea",
        Profile(age=35, goal="project", project_stage="idea"),
        {"indh-programme-3", "forsa"},
        {"cite-des-metiers-casablanca-settat"},
    ),
    (
        "36, project idea",
        Profile(age=36, goal="project", project_stage="idea"),
        {"forsa"},
        {"indh-programme-3", "smart-initiatives"},
    ),
    (
        "30, new company hiring its first employees",
        Profile(age=30, goal="project", project_stage="started", situation="self_employed"),
        {"anapec-tahfiz"},
        {"ecole-deuxieme-chance"},
    ),
    (
        "17, student, wants a job",
        Profile(age=17, situation="student", goal="job"),
        {"cite-des-metiers-casablanca-settat"},
        {"anapec-idmaj", "awrach", "ecole-deuxieme-chance", "anapec-tahfiz"},
    ),
    (
        "nothing known",
        Profile(),
        set(),
        set(),
    ),
]


@pytest.mark.parametrize(
    "profile, expected_in, expected_out",
    [case[1:] for case in PROFILES],
    ids=[case[0] for case in PROFILES],
)
def test_realistic_profiles(profile, expected_in, expected_out):
    best = top(profile, limit=5)
    assert expected_in <= set(best), best
    assert not expected_out & set(best), best


def test_reasons_in_french_say_why():
    result = match(
        Profile(age=24, goal="project", project_stage="idea"), CATALOG, "fr", limit=20, today=TODAY
    )
    indh = next(offer for offer in result.offers if offer.id == "indh-programme-3")
    assert "tu as 24 ans, le programme accepte 18–35 ans" in indh.reasons
    assert "il t'aide à lancer ton projet" in indh.reasons
    assert indh.reason_codes[:2] == ["goal_ok", "age_ok"]


def test_reasons_in_darija_both_scripts():
    profile = Profile(age=24, goal="project", project_stage="idea")
    ary = match(profile, CATALOG, "ary", limit=20, today=TODAY).offers
    latn = match(profile, CATALOG, "ary_latn", limit=20, today=TODAY).offers
    indh_ary = next(offer for offer in ary if offer.id == "indh-programme-3")
    indh_latn = next(offer for offer in latn if offer.id == "indh-programme-3")
    assert "عندك 24 عام، والبرنامج كيقبل من 18 حتى 35 عام" in indh_ary.reasons
    assert "3ndek 24 3am, w lbarnamaj kay9bel mn 18 tal 35 3am" in indh_latn.reasons
    assert indh_ary.name == "المبادرة الوطنية للتنمية البشرية - البرنامج 3"
    for offer in latn:
        assert not re.search(r"[\u0600-\u06FF]", " ".join(offer.reasons)), offer.reasons


def test_programmes_to_confirm_carry_the_caution_in_every_language():
    profile = Profile(age=24, situation="job_seeker", goal="job")
    expected = {
        "fr": "à vérifier auprès de l'organisme",
        "ary": "تأكد من عند المؤسسة",
        "ary_latn": "t2akked mn 3nd lmo2assassa",
    }
    for language, words in expected.items():
        offers = match(profile, CATALOG, language, limit=20, today=TODAY).offers
        idmaj = next(offer for offer in offers if offer.id == "anapec-idmaj")
        assert idmaj.status == "to_confirm"
        assert idmaj.caution.startswith(words)
        taehil = next(offer for offer in offers if offer.id == "anapec-taehil")
        assert taehil.caution is None


def test_stale_information_is_offered_with_a_caution():
    """A year and a half later, the same catalogue is stale: offered, but flagged."""
    later = date(2028, 6, 1)
    offers = match(Profile(age=24, goal="job"), CATALOG, "fr", limit=20, today=later).offers
    assert offers
    for offer in offers:
        assert offer.caution.startswith("à vérifier auprès de l'organisme"), offer
        assert "infos vérifiées le 23/11/2026" in offer.caution


def test_near_misses_say_what_is_missing():
    result = match(Profile(age=16, goal="project"), CATALOG, "fr", limit=10, today=TODAY)
    near = {item.id: item for item in result.near_misses}
    assert "indh-programme-3" in near
    assert near["indh-programme-3"].missing == ["il faut avoir au moins 18 ans (tu as 16 ans)"]
    assert near["indh-programme-3"].kind == "near_miss"
    assert "indh-programme-3" not in result.ids


def test_amount_near_miss():
    result = match(
        Profile(age=30, goal="financing", project_stage="started", amount=300_000),
        CATALOG,
        "fr",
        limit=10,
        today=TODAY,
    )
    near = {item.id: item for item in result.near_misses}
    assert near["reseau-entreprendre-maroc"].missing == [
        "il finance jusqu'à 100 000 DH (tu cherches 300 000 DH)"
    ]


def test_commune_given_as_free_text_is_looked_up():
    assert "smart-initiatives" in top(Profile(age=20, goal="listening", commune="3in 7rouda"))
    assert "smart-initiatives" not in top(Profile(age=20, goal="listening", commune="Casa"))


def test_local_programme_says_who_it_is_for_when_commune_unknown():
    offers = match(Profile(age=20, goal="listening"), CATALOG, "fr", limit=20, today=TODAY).offers
    smart = next(offer for offer in offers if offer.id == "smart-initiatives")
    assert "réservé aux habitants de : Aïn Harrouda, préfecture de Mohammedia" in smart.reasons


def test_local_programmes_rank_above_national_ones_for_residents():
    offers = match(
        Profile(age=20, goal="listening", commune="ain-harrouda"), CATALOG, "fr", 5, today=TODAY
    ).offers
    assert offers[0].id == "smart-initiatives"
    assert "il est dans ta commune (Aïn Harrouda)" in offers[0].reasons


def test_scores_are_sorted_and_bounded():
    for _, profile, _, _ in PROFILES:
        result = match(profile, CATALOG, "fr", limit=20, today=TODAY)
        scores = [offer.score for offer in result.offers]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= score <= 100 for score in scores)


def test_profile_from_slots():
    profile = Profile.from_mapping(
        {
            "age": "24",
            "education": "BAC",
            "commune": "Ain Harrouda",
            "amount": "50 000",
            "goal": None,
            "requested_slot": "x",
        }
    )
    assert profile == Profile(age=24, education="bac", commune="Ain Harrouda", amount=50_000)


def test_match_command_prints_json_best_first(capsys):
    code = main(
        shlex.split(
            "match --age 24 --education bac --situation job_seeker --goal job --limit 5 --json"
        )
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert 1 <= len(rows) <= 5
    assert "anapec-idmaj" in [row["id"] for row in rows]
    assert [row["score"] for row in rows] == sorted((row["score"] for row in rows), reverse=True)
    for row in rows:
        assert {"id", "score", "reasons", "status", "caution", "name"} <= row.keys()
        assert all(isinstance(reason, str) for reason in row["reasons"])


def test_match_command_prints_a_table(capsys):
    code = main(
        shlex.split(
            "match --age 16 --situation not_in_school --commune '3in 7rouda' --language ary_latn "
            "--near-misses"
        )
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "ecole-deuxieme-chance" in out
    assert "3ndek 16 3am" in out


def test_match_command_refuses_an_unknown_commune(capsys):
    assert main(["match", "--age", "20", "--commune", "Atlantis"]) == 2
    assert "commune inconnue" in capsys.readouterr().err


def test_phrases_exist_in_three_languages_with_the_same_placeholders():
    data = default_phrasebook()._data
    for section in ("reasons", "caution", "formats"):
        for code, texts in data[section].items():
            assert set(texts) == {"fr", "ary", "ary_latn"}, code
            placeholders = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in texts.items()}
            assert placeholders["fr"] == placeholders["ary"] == placeholders["ary_latn"], code
            if section == "reasons":
                assert re.search(r"[\u0600-\u06FF]", texts["ary"]), code
                assert not re.search(r"[\u0600-\u06FF]", texts["ary_latn"]), code
    for kind, labels in data["labels"].items():
        for code, texts in labels.items():
            assert set(texts) == {"fr", "ary", "ary_latn"}, (kind, code)
