"""Programme suggestions in the conversation: offers with their buttons, cautions in the
person's language, "autres options", details, how to apply, referrals stored (SQLite and
PostgreSQL), and the catalogue's hot reload seen through the action server's store."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.actions import programs
from bot.actions.programs import (
    ActionHowToApply,
    ActionMorePrograms,
    ActionProgramDetails,
    ActionSuggestPrograms,
)
from bot.settings import get_settings
from bot.storage.models import Referral
from tests.conftest import make_tracker

ARABIC = re.compile(r"[\u0600-\u06FF]")
JOB_SEEKER = {
    "age": 24,
    "education": "bac",
    "situation": "job_seeker",
    "goal": "job",
    "commune": "ain-harrouda",
    "profile_consent": True,
}
PROJECT = {
    "age": 28,
    "education": "college",
    "situation": "not_in_school",
    "goal": "project",
    "commune": "ain-harrouda",
    "project_stage": "idea",
    "sector": "food",
    "amount": 50_000,
    "profile_consent": True,
}


@pytest.fixture
def catalog_dir(tmp_path, monkeypatch) -> Path:
    """A copy of the catalogue, served by the action server's store (BOUSLA_CATALOG_DIR)."""
    directory = tmp_path / "orientation_catalog"
    shutil.copytree(PROJECT_ROOT / "orientation_catalog", directory)
    monkeypatch.setenv("BOUSLA_CATALOG_DIR", str(directory))
    get_settings.cache_clear()
    return directory


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file and move its modification time forward, as an editor would."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    stat = path.stat()
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def tracker_with(
    slots: dict,
    *,
    language="fr",
    sender_id="p-match",
    text="",
    intent=None,
    entities=None,
    channel="telegram",
) -> Tracker:
    return make_tracker(
        sender_id=sender_id,
        text=text,
        intent=intent,
        entities=entities,
        slots={**slots, "language": language},
        channel=channel,
    )


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def referrals(session, person_id: str) -> list[tuple[str, str, str, str]]:
    rows = session.execute(
        select(Referral).where(Referral.person_id == person_id).order_by(Referral.id)
    ).scalars()
    return [(r.program_id, r.kind, r.channel, r.language) for r in rows]


async def suggest(dispatcher, slots, **kwargs) -> dict:
    events = await ActionSuggestPrograms().run(dispatcher, tracker_with(slots, **kwargs), {})
    return slot_events(events)


# ------------------------------------------------------------------ suggestions
def listed(message: dict) -> list[str]:
    """The numbered lines of a list of programmes ("1. 📌 Name — why")."""
    return [line for line in message["items"].splitlines() if re.match(r"^\d\. ", line)]


async def test_three_programmes_in_one_numbered_message_and_referrals_stored(
    dispatcher, session, catalog_dir
):
    slots = await suggest(dispatcher, JOB_SEEKER, sender_id="p-job")
    assert responses(dispatcher) == ["utter_programs_list_more"]  # one message, more to see
    message = dispatcher.messages[0]
    lines = listed(message)
    assert len(lines) == 3 and [line[:2] for line in lines] == ["1.", "2.", "3."]
    assert all(" — " in line and len(line) < 140 for line in lines)  # name + one line why

    shown = slots["shown_programs"]
    assert len(shown) == 3
    # Telegram: the names are buttons too, in the order of the numbers.
    assert [b["payload"] for b in message["buttons"]] == [
        f'/program_details{{"program_id":"{pid}"}}' for pid in shown
    ]
    assert [o["id"] for o in slots["program_options"]][:1] and not set(shown) & {
        o["id"] for o in slots["program_options"]
    }
    assert referrals(session, "p-job") == [(pid, "suggested", "telegram", "fr") for pid in shown]
    assert slots["profile_reasked"] == []
    assert "age" not in slots


async def test_on_whatsapp_the_list_has_no_buttons(dispatcher, database_url, catalog_dir):
    """Buttons become numbered choices on WhatsApp: a second numbering in the same turn."""
    await suggest(dispatcher, JOB_SEEKER, sender_id="p-wa", channel="whatsapp")
    assert not dispatcher.messages[0]["buttons"]
    assert len(listed(dispatcher.messages[0])) == 3


@pytest.mark.parametrize("language", ["fr", "ary", "ary_latn"])
async def test_programmes_to_confirm_are_flagged_in_the_persons_language(
    dispatcher, database_url, catalog_dir, language
):
    slots = await suggest(dispatcher, PROJECT, language=language, sender_id=f"p-caution-{language}")
    # INDH programme 3 carries a point to confirm (the next call's dates): flagged ⚠️ in
    # the list, its caution kept for the answer about it.
    lines = listed(dispatcher.messages[0])
    indh_line = next(
        line
        for line, pid in zip(lines, slots["shown_programs"], strict=True)
        if pid == "indh-programme-3"
    )
    assert "⚠️" in indh_line
    assert bool(ARABIC.search(indh_line)) == (language == "ary")


async def test_without_consent_the_answers_stay_in_the_conversation(
    dispatcher, database_url, catalog_dir
):
    """Issue 16, item 2: refusing consent is not amnesia (nothing is written to the
    database without consent: validate_profile_form; the slots stay for the session)."""
    slots = await suggest(
        dispatcher, {**JOB_SEEKER, "profile_consent": False}, sender_id="p-noconsent"
    )
    assert not {"age", "education", "situation", "goal", "commune"} & set(slots)
    assert responses(dispatcher) == ["utter_programs_list_more"]


async def test_other_options_then_near_misses_then_the_end(dispatcher, session, catalog_dir):
    older = {**JOB_SEEKER, "age": 45}  # too old for several programmes: near misses
    slots = await suggest(dispatcher, older, sender_id="p-more")
    options = slots["program_options"]
    assert any(o["kind"] == "near_miss" for o in options)

    seen = []
    while options:
        dispatcher.messages.clear()
        tracker = tracker_with(
            {**older, "program_options": options},
            sender_id="p-more",
            intent="more_programs",
            text="/more_programs",
        )
        slots = slot_events(await ActionMorePrograms().run(dispatcher, tracker, {}))
        options = slots["program_options"]
        assert responses(dispatcher) == [
            "utter_programs_next_more" if options else "utter_programs_next"
        ]
        seen += list(zip(listed(dispatcher.messages[0]), slots["shown_programs"], strict=True))

    near = [(line, pid) for line, pid in seen if "🔸" in line]
    assert near and all("45" in line or "bac" in line for line, _ in near)
    offered = [pid for line, pid in seen if "🔸" not in line]
    suggested = [pid for pid, kind, *_ in referrals(session, "p-more") if kind == "suggested"]
    assert set(offered) <= set(suggested) and not {pid for _, pid in near} & set(suggested)

    dispatcher.messages.clear()
    tracker = tracker_with({**older, "program_options": []}, sender_id="p-more")
    await ActionMorePrograms().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_programs_no_more"]


async def test_no_match_is_said_honestly_with_a_counsellor_offered(
    dispatcher, session, tmp_path, monkeypatch
):
    directory = tmp_path / "one_programme"
    directory.mkdir()
    shutil.copy(PROJECT_ROOT / "tests/catalog_fixtures/sample.yml", directory / "sample.yml")
    monkeypatch.setenv("BOUSLA_CATALOG_DIR", str(directory))
    get_settings.cache_clear()

    await suggest(dispatcher, JOB_SEEKER, sender_id="p-none")  # sample is for projects only
    assert responses(dispatcher) == ["utter_programs_none"]
    assert referrals(session, "p-none") == []

    dispatcher.messages.clear()
    await suggest(dispatcher, {**PROJECT, "age": 16}, sender_id="p-none")  # sample: 18 and over
    assert responses(dispatcher) == ["utter_programs_none", "utter_programs_list"]
    assert "18" in dispatcher.messages[1]["items"]


# ------------------------------------------------------------------ details and how to apply
async def test_details_show_gives_documents_contact_and_date_and_are_a_choice(
    dispatcher, session, catalog_dir
):
    tracker = tracker_with(
        JOB_SEEKER,
        sender_id="p-details",
        text='/program_details{"program_id":"forsa"}',
        intent="program_details",
        entities=[{"entity": "program_id", "value": "forsa"}],
    )
    await ActionProgramDetails().run(dispatcher, tracker, {})
    details, caution = dispatcher.messages
    assert details["response"] == "utter_program_details"
    assert details["program_name"] == "Programme Forsa"
    assert details["gives"].startswith("• Une formation")
    assert "• Ta carte nationale (CIN)" in details["documents"]
    assert "https://www.forsa.ma" in details["contact"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", details["verified_on"])
    assert caution["response"] == "utter_program_caution"  # forsa has a point to confirm
    assert "forsa.ma" in caution["caution"]  # its point: no new call since 2023

    dispatcher.messages.clear()
    tracker = tracker_with(
        JOB_SEEKER,
        sender_id="p-details",
        text='/how_to_apply{"program_id":"forsa"}',
        intent="how_to_apply",
        entities=[{"entity": "program_id", "value": "forsa"}],
    )
    await ActionHowToApply().run(dispatcher, tracker, {})
    steps = dispatcher.messages[0]
    assert steps["response"] == "utter_program_how_to_apply"
    # Forsa is paused (no call since 2023): its first step now says so.
    assert steps["steps"].startswith("1. Aucun appel n'est ouvert") and "\n2. " in steps["steps"]
    # Two taps on the same programme are one choice.
    assert referrals(session, "p-details") == [("forsa", "chosen", "telegram", "fr")]


async def test_details_in_darija_use_the_catalogue_texts_of_the_language(
    dispatcher, database_url, catalog_dir
):
    tracker = tracker_with(
        {},
        language="ary",
        sender_id="p-ary",
        intent="program_details",
        entities=[{"entity": "program_id", "value": "ofppt"}],
    )
    await ActionProgramDetails().run(dispatcher, tracker, {})
    details = dispatcher.messages[0]
    assert ARABIC.search(details["program_name"]) and ARABIC.search(details["gives"])


async def test_a_typed_name_finds_the_programme(dispatcher, database_url, catalog_dir):
    tracker = tracker_with(
        {}, sender_id="p-typed", text="c'est quoi forsa ?", intent="program_details"
    )
    await ActionProgramDetails().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["program_id"] == "forsa"


async def test_a_typed_request_without_a_name_asks_which_programme(
    dispatcher, database_url, catalog_dir
):
    shown = ["anapec-idmaj", "awrach", "ofppt"]
    tracker = tracker_with(
        {"shown_programs": shown},
        language="ary_latn",
        sender_id="p-which",
        text="kifach ntrecha7?",
        intent="how_to_apply",
    )
    await ActionHowToApply().run(dispatcher, tracker, {})
    [which] = dispatcher.messages
    assert which["response"] == "utter_program_which"
    assert [b["payload"] for b in which["buttons"]] == [
        f'/how_to_apply{{"program_id":"{p}"}}' for p in shown
    ]


async def test_an_unknown_programme_is_said_so(dispatcher, database_url, catalog_dir):
    tracker = tracker_with(
        {},
        sender_id="p-unknown",
        intent="program_details",
        entities=[{"entity": "program_id", "value": "nope"}],
    )
    await ActionProgramDetails().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_program_unknown"]


# ------------------------------------------------------------------ hot reload through the action
async def test_catalogue_edits_reach_the_next_suggestion_and_broken_edits_keep_the_last_good(
    dispatcher, database_url, catalog_dir
):
    big_project = {**PROJECT, "goal": "financing", "amount": 250_000}

    async def suggested_ids() -> set[str]:
        dispatcher.messages.clear()
        slots = await suggest(dispatcher, big_project, sender_id="p-reload")
        offers = [o["id"] for o in slots["program_options"] if o["kind"] == "offer"]
        return set(slots["shown_programs"]) | set(offers)

    # Réseau Entreprendre rather than Forsa, which is paused (never suggested) since the
    # December 2026 fact check.
    rem = "reseau-entreprendre-maroc"
    assert rem not in await suggested_ids()  # it lends up to 225,000 DH
    store = programs.catalog_store()

    edit(catalog_dir / f"{rem}.yml", "amount_max: 225000", "amount_max: 300000")
    assert rem in await suggested_ids()
    assert programs.catalog_store() is store  # the same store, reloaded without restart

    edit(catalog_dir / f"{rem}.yml", "  amount_min: 50000", "  amount_min: cinquante mille")
    assert rem in await suggested_ids()  # the last good catalogue is still served
    status = store.status()
    assert status.serving_previous and status.errors[0].file == f"{rem}.yml"


# ------------------------------------------------------------------ the goal in own words
def said_in_conversation(*messages: tuple[str, str]) -> list[dict]:
    """User events of the conversation (text, intent), oldest first."""
    return [
        {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}
        for text, intent in messages
    ]


def test_the_goal_in_own_words_is_what_the_person_said_about_this_goal():
    events = said_in_conversation(
        ("salam", "greet"),
        ("je cherche un travail", "seek_job"),  # an earlier goal: left out
        ("en fait je veux créer une coopérative de couscous", "start_project"),
        ("35", "inform"),
    )
    tracker = make_tracker(text="oui", slots={"goal": "project"}, events=events)
    assert programs.goal_words(tracker) == "en fait je veux créer une coopérative de couscous"
    assert programs.goal_words(make_tracker(slots={"goal": "job"}, events=events)) == (
        "je cherche un travail"
    )
    assert programs.goal_words(make_tracker(slots={}, events=events)) is None


async def test_the_sector_said_in_own_words_steers_the_suggestions(dispatcher, catalog_dir):
    """Khadija answered "sewing" to the sector question; she wants a sewing cooperative:
    ODCO (creating a cooperative) is among the three shown."""
    slots = {**PROJECT, "sector": "crafts", "amount": 30_000, "profile_consent": False}
    events = said_in_conversation(("بغيت ندير تعاونية ديال الخياطة مع الجارات", "start_project"))
    tracker = make_tracker(text="30000 درهم", slots={**slots, "language": "ary"}, events=events)
    result = await ActionSuggestPrograms().run(dispatcher, tracker, {})
    assert "odco-cooperative" in slot_events(result)["shown_programs"]


async def test_papers_asked_after_the_list_are_those_of_the_programme_she_came_for(
    dispatcher, database_url, catalog_dir
):
    """Khadija came for a sewing cooperative; after the list, "شنو الوراق؟" (which papers?)
    is about ODCO, the one programme of the list made for cooperatives. Without such a
    programme in the list, the question stays "which one?" (test above)."""
    shown = ["odco-cooperative", "indh-programme-3", "auto-entrepreneur"]
    events = said_in_conversation(("بغيت ندير تعاونية ديال الخياطة مع الجارات", "start_project"))
    tracker = make_tracker(
        text="شنو الوراق؟",
        intent="how_to_apply",
        slots={"shown_programs": shown, "goal": "project", "language": "ary"},
        events=events,
    )
    await ActionHowToApply().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["program_id"] == "odco-cooperative"
