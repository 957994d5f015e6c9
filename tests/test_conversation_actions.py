"""Actions of a conversation that keeps going (bot/actions/conversation.py, issue 16):
a programme asked about by name or number, a new goal, off-topic questions in the form,
small words, messages while a counsellor request is open."""

from __future__ import annotations

import re

import pytest

from bot.actions.conversation import (
    ActionAddToRequest,
    ActionChangeGoal,
    ActionOffTopic,
    ActionProgramQuestion,
    ActionRemindPrograms,
    ActionSmallWord,
    replies_length,
)
from bot.handoffs.service import request_handoff
from tests.conftest import make_tracker

ARABIC = re.compile(r"[\u0600-\u06FF]")
SEAMSTRESS = {
    "age": 31,
    "education": "college",
    "situation": "not_in_school",
    "goal": "project",
    "commune": "ain-harrouda",
    "profile_consent": False,
}


def responses(dispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def slots_of(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def reply_length(dispatcher, domain, language) -> int:
    replies = [
        (m["response"], {k: v for k, v in m.items() if isinstance(v, str)})
        for m in dispatcher.messages
    ]
    return replies_length(domain, language, replies)


@pytest.mark.parametrize(
    "language, text, program",
    [
        ("ary_latn", "kifach ntsjel f intelaka?", "intelaka"),
        ("fr", "c'est quoi les papiers pour l'OFPPT ?", "ofppt"),
        ("ary", "انطلاقة فين كاينة؟", "intelaka"),
        ("ary_latn", "chno hiya odco?", "odco-cooperative"),
    ],
)
async def test_a_programme_by_name_what_it_is_whether_it_fits_how_to_apply(
    dispatcher, domain, database_url, language, text, program
):
    tracker = make_tracker(text=text, slots={**SEAMSTRESS, "language": language})
    events = await ActionProgramQuestion().run(dispatcher, tracker, domain)
    names = responses(dispatcher)
    assert names[0] == "utter_program_answer"
    assert dispatcher.messages[0]["program_name"]
    assert any(n.startswith("utter_program_answer_") for n in names[1:])
    assert slots_of(events)["program_in_focus"] == program
    assert reply_length(dispatcher, domain, language) <= 600
    texts = " ".join(str(v) for m in dispatcher.messages for v in m.values())
    assert bool(ARABIC.search(texts)) == (language == "ary")


async def test_a_minor_asking_about_forsa_hears_the_age_rule(dispatcher, domain, database_url):
    tracker = make_tracker(
        text="chno hiya forsa? ana 3andi 17 3am", slots={"age": 17, "language": "ary_latn"}
    )
    await ActionProgramQuestion().run(dispatcher, tracker, domain)
    texts = " ".join(str(v) for m in dispatcher.messages for v in m.values())
    assert "18" in texts


@pytest.mark.parametrize(
    "language, text",
    [
        ("fr", "et Moubadara c'est quoi ?"),  # its note names two programmes to go to
        ("ary_latn", "w forsa? sm3t 3liha f tiktok"),
        ("ary_latn", "chno hiya forsa? ana 3andi 17 3am"),
        ("ary", "شنو هي فرصة؟"),
    ],
)
async def test_an_answer_about_a_closed_programme_names_three_programmes_at_most(
    dispatcher, domain, database_url, language, text
):
    """Issue 16, item 3: the programme, what its note names, then alternatives, three in
    all; the whole answer within the turn's 600 characters."""
    from bot.actions.programs import catalog_store
    from bot.ops.conversations.checks import ProgramNames

    slots = {"age": 17 if "17" in text else 30, "goal": "project", "language": language}
    tracker = make_tracker(text=text, slots=slots)
    await ActionProgramQuestion().run(dispatcher, tracker, domain)
    names = ProgramNames.from_catalog(catalog_store().directory)
    said = "\n".join(str(v) for m in dispatcher.messages for v in m.values())
    named = names.program_ids(said)
    assert 1 <= len(named) <= 3, named
    assert reply_length(dispatcher, domain, language) <= 600


async def test_a_number_means_the_item_of_the_last_list(dispatcher, domain, database_url):
    shown = ["ofppt", "anapec-idmaj", "fondation-zakoura"]
    tracker = make_tracker(text="2", slots={"shown_programs": shown})
    events = await ActionProgramQuestion().run(dispatcher, tracker, domain)
    assert slots_of(events)["program_in_focus"] == "anapec-idmaj"


async def test_in_the_form_the_question_is_not_taken_for_an_answer(
    dispatcher, domain, database_url
):
    text = "w idmaj chno hiya?"
    tracker = make_tracker(
        text=text,
        slots={"requested_slot": "education", "education": text},
        active_loop={"name": "profile_form"},
    )
    tracker.events.append({"event": "slot", "name": "education", "value": text})
    events = await ActionProgramQuestion().run(dispatcher, tracker, domain)
    assert slots_of(events)["education"] is None


async def test_a_new_goal_replaces_the_old_one(dispatcher, domain):
    tracker = make_tracker(
        text="wa9ila la, ma bghitch khdma, bghit formation",
        intent="seek_job",  # the words say it better than the intent
        slots={"goal": "job", "language": "ary_latn"},
    )
    events = await ActionChangeGoal().run(dispatcher, tracker, domain)
    assert slots_of(events)["goal"] == "training"
    assert responses(dispatcher) == ["utter_goal_changed_training"]


async def test_the_same_goal_again_shows_the_list_not_the_cards(dispatcher, domain, database_url):
    shown = ["ofppt", "anapec-idmaj", "fondation-zakoura"]
    tracker = make_tracker(
        text="bghit khdma", intent="seek_job", slots={"goal": "job", "shown_programs": shown}
    )
    events = await ActionRemindPrograms().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_programs_recap"]
    assert "goal" not in slots_of(events)


async def test_off_topic_in_the_form_is_one_line(dispatcher, domain):
    tracker = make_tracker(text="c'est quand la prière ?", active_loop={"name": "profile_form"})
    await ActionOffTopic().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_off_topic_in_form"]


@pytest.mark.parametrize(
    "text, events, expected",
    [
        ("ok", [], "utter_ack"),
        ("merci", [], "utter_you_are_welcome"),
        (
            "👍",
            [
                {"event": "user", "text": "3in 7rouda"},
                {"event": "action", "name": "action_suggest_programs"},
            ],
            "utter_ack_programs",
        ),
    ],
)
async def test_small_words_get_a_short_fitting_answer(dispatcher, domain, text, events, expected):
    tracker = make_tracker(text=text, events=events, slots={"shown_programs": ["ofppt"]})
    await ActionSmallWord().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == [expected]


async def test_while_a_request_is_open_messages_are_for_the_counsellor(dispatcher, domain, session):
    request_handoff(
        session, person_id="p-waiting", channel="rest", language="fr", reason="ask_human"
    )
    session.commit()
    tracker = make_tracker(sender_id="p-waiting", text="ok", slots={"handoff_open": True})
    events = await ActionAddToRequest().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_handoff_message_added"] and not events

    dispatcher.messages.clear()
    tracker = make_tracker(sender_id="p-nobody", text="ok", slots={"handoff_open": True})
    events = await ActionAddToRequest().run(dispatcher, tracker, domain)
    assert slots_of(events) == {"handoff_open": None}
