"""The profile form's validation and questions, with tracker fixtures and CollectingDispatcher.

The trackers are built as Rasa sends them to `validate_profile_form`: the user message, the
requested slot, the form's action, then the slot candidates extracted from the message.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.actions.profile_form import (
    FORM_ASIDES,
    FORM_EXITS,
    FORM_INTERRUPTIONS,
    SOFT_EXITS,
    ActionAskAge,
    ActionAskCommune,
    ActionAskProfileConsent,
    ActionAskSituation,
    ValidateProfileForm,
)
from bot.storage.models import Consent, Person

BASICS = {"age": 24, "education": "bac", "situation": "job_seeker", "commune": "ain-harrouda"}
PROJECT = {"project_stage": "idea", "sector": "food", "amount": 50_000}


def form_tracker(
    text: str,
    candidates: dict | None = None,
    *,
    intent: str = "inform",
    requested: str | None = None,
    slots: dict | None = None,
    sender_id: str = "form-person",
    channel: str = "rest",
    language: str = "fr",
) -> Tracker:
    """The tracker Rasa gives the validation action after the person wrote `text`.

    `requested=None` is the form's activation (slots filled before, e.g. by the first message).
    """
    candidates = candidates or {}
    all_slots = {
        "language": language,
        "requested_slot": requested,
        "profile_consent": None,
        "profile_reasked": [],
        "profile_skipped": [],
        **(slots or {}),
        **candidates,
    }
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    events = [
        {"event": "user", "text": text, "parse_data": parse_data, "input_channel": channel},
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": "profile_form"},
        *({"event": "slot", "name": name, "value": value} for name, value in candidates.items()),
    ]
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=parse_data,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": "profile_form"} if requested else {},
        latest_action_name="action_listen",
    )


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


async def validate(dispatcher, domain, tracker: Tracker) -> dict:
    return slot_events(await ValidateProfileForm().run(dispatcher, tracker, domain))


# ------------------------------------------------------------------ answers in three scripts
ANSWERS = [
    ("age", "22 ans", "fr", 22),
    ("age", "3andi 22 3am", "ary_latn", 22),
    ("age", "عندي 22 عام", "ary", 22),
    ("age", "٢٢", "ary", 22),
    ("education", "bac+2", "fr", "bac+2"),
    ("education", "ma 9ritch", "ary_latn", "none"),
    ("education", "ما قريتش", "ary", "none"),
    ("situation", "mazal kan9ra", "ary_latn", "student"),
    ("situation", "مازال كنقرا", "ary", "student"),
    ("situation", "je suis au chômage", "fr", "job_seeker"),
    ("goal", "khdma", "ary_latn", "job"),
    ("commune", "3in 7rouda", "ary_latn", "ain-harrouda"),
    ("commune", "عين حرودة", "ary", "ain-harrouda"),
    ("commune", "j'habite à Mohamedia", "fr", "mohammedia"),
    ("project_stage", "juste une idée", "fr", "idea"),
    ("sector", "khiyata", "ary_latn", "crafts"),
    ("amount", "5 melyoun", "ary_latn", 50_000),
    ("amount", "50 alf", "ary_latn", 50_000),
    ("amount", "خمسين ألف", "ary", 50_000),
    ("amount", "50 000 DH", "fr", 50_000),
]


@pytest.mark.parametrize(("slot", "text", "language", "expected"), ANSWERS)
async def test_answers_in_three_scripts_fill_the_slot(
    dispatcher, domain, slot, text, language, expected
):
    slots = {**BASICS, "goal": "project", "profile_consent": False}
    slots.pop(slot, None)
    tracker = form_tracker(text, {slot: text}, requested=slot, slots=slots, language=language)
    events = await validate(dispatcher, domain, tracker)
    assert events[slot] == expected
    assert dispatcher.messages == []


async def test_an_entity_value_is_read_with_the_whole_message(dispatcher, domain):
    # The NLU may tag only "22" of "j'ai 22 ans" or a synonym value: both work.
    tracker = form_tracker("j'ai vingt-deux ans", {"age": "vingt"}, requested="age")
    assert (await validate(dispatcher, domain, tracker))["age"] == 22


# ------------------------------------------------------------------ asked again once, then skipped
BAD_ANSWERS = [
    ("age", "-3", "200"),
    ("age", "bzaf", "age -3"),
    ("commune", "Tiznit", "bzaf"),  # unknown commune
    ("education", "bzaf", "banane"),
    ("amount", "bzaf", "50"),
    ("sector", "bzaf", "pharmacie"),
]


@pytest.mark.parametrize(("slot", "first", "second"), BAD_ANSWERS)
async def test_a_bad_answer_is_asked_again_once_with_an_example_then_skipped(
    dispatcher, domain, slot, first, second
):
    slots = {**BASICS, **PROJECT, "goal": "project", "profile_consent": False}
    slots.pop(slot, None)

    events = await validate(
        dispatcher, domain, form_tracker(first, {slot: first}, requested=slot, slots=slots)
    )
    assert events[slot] is None
    assert events["profile_reasked"] == [slot]
    assert events["requested_slot"] == slot  # the same question...
    assert dispatcher.messages == []
    ask = type(f"Ask{slot}", (ActionAskAge,), {"slot": slot})()
    ask.run(dispatcher, form_tracker(first, events, slots=slots), domain)  # this turn's events
    assert responses(dispatcher) == [f"utter_ask_{slot}_again"]  # ... with an example
    dispatcher.messages.clear()

    slots = {**slots, "profile_reasked": [slot]}
    events = await validate(
        dispatcher, domain, form_tracker(second, {slot: second}, requested=slot, slots=slots)
    )
    assert events[slot] is None
    assert events["profile_skipped"] == [slot]
    assert events["requested_slot"] != slot  # the form moves on
    assert responses(dispatcher) == ["utter_profile_skip"]


@pytest.mark.parametrize(
    ("slot", "text"),
    [("age", "je sais pas"), ("commune", "ma3rftch"), ("amount", "ما عرفتش"), ("sector", "skip")],
)
async def test_i_dont_know_skips_the_question_at_once(dispatcher, domain, slot, text):
    slots = {**BASICS, "goal": "financing", "profile_consent": False}
    slots.pop(slot, None)
    events = await validate(
        dispatcher, domain, form_tracker(text, {slot: text}, requested=slot, slots=slots)
    )
    assert events[slot] is None and events["profile_skipped"] == [slot]
    assert "profile_reasked" not in events
    assert responses(dispatcher) == ["utter_profile_skip"]


async def test_a_skipped_question_is_not_asked_again(dispatcher, domain):
    slots = {"profile_consent": True, "goal": "job", "profile_skipped": ["age"]}
    tracker = form_tracker("", requested="age", slots=slots)
    events = await ValidateProfileForm().next_requested_slot(dispatcher, tracker, domain)
    assert events["value"] == "education"


async def test_a_greeting_or_another_button_is_not_an_answer_and_not_a_try(dispatcher, domain):
    events = await validate(
        dispatcher, domain, form_tracker("salam", {"age": "salam"}, intent="greet", requested="age")
    )
    assert events["age"] is None and "profile_reasked" not in events
    events = await validate(
        dispatcher,
        domain,
        form_tracker("/seek_job", {"age": "/seek_job"}, intent="seek_job", requested="age"),
    )
    assert events["age"] is None and "profile_reasked" not in events
    assert dispatcher.messages == []


# ------------------------------------------------------------------ which questions, in which order
@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ("job", None),
        ("training", None),
        ("project", "project_stage"),
        ("financing", "project_stage"),
    ],
)
async def test_project_questions_only_for_project_and_financing(dispatcher, domain, goal, expected):
    tracker = form_tracker(
        "", slots={**BASICS, "goal": goal, "profile_consent": False}, requested="commune"
    )
    event = await ValidateProfileForm().next_requested_slot(dispatcher, tracker, domain)
    assert event["value"] == expected  # None ends the form


async def test_the_first_message_prefills_the_form_and_consent_comes_first(dispatcher, domain):
    # "bghit khdma, 3andi 24 3am f ain harrouda": entities and intent, before the form starts.
    candidates = {"goal": "job", "age": "24", "commune": "ain harrouda"}
    tracker = form_tracker(
        "bghit khdma, 3andi 24 3am f ain harrouda", candidates, intent="seek_job"
    )
    events = await validate(dispatcher, domain, tracker)
    assert events == {
        "goal": "job",
        "age": 24,
        "commune": "ain-harrouda",
        "requested_slot": "profile_consent",
    }
    assert dispatcher.messages == []


async def test_a_stray_value_before_the_question_is_dropped_quietly(dispatcher, domain):
    tracker = form_tracker("3andi 200 3am", {"age": "200", "goal": "job"}, intent="seek_job")
    events = await validate(dispatcher, domain, tracker)
    assert events["age"] is None and "profile_reasked" not in events
    assert dispatcher.messages == []


async def test_an_interrupting_message_fills_nothing_so_rasa_rejects_the_form(dispatcher, domain):
    # "bghit nhder m3a chi wa7ed": the mappings exclude ask_human, so no candidate arrives;
    # the action must not add any slot event either (only requested_slot), or the form
    # would not be rejected and the counsellor rule would never run.
    tracker = form_tracker(
        "bghit nhder m3a chi wa7ed",
        intent="ask_human",
        requested="education",
        slots={"profile_consent": True, "age": 22},
    )
    events = await ValidateProfileForm().run(dispatcher, tracker, domain)
    assert [e["name"] for e in events if e.get("event") == "slot"] == ["requested_slot"]


@pytest.mark.parametrize(
    ("text", "requested"),
    [("ana m9ala9 bzaf", "education"), ("ما بقيتش قادر", "age"), ("je me sens seul", "commune")],
)
async def test_a_need_to_talk_leaves_the_form(dispatcher, domain, text, requested):
    tracker = form_tracker(text, {requested: text}, intent="need_listening", requested=requested)
    events = await ValidateProfileForm().run(dispatcher, tracker, domain)
    assert events[-1] == {
        **events[-1],
        "event": "action_execution_rejected",
        "name": "profile_form",
    }
    assert slot_events(events) == {requested: None}  # the text caught is not kept as an answer
    assert dispatcher.messages == []


@pytest.mark.parametrize(("text", "requested"), [("je sais pas", "age"), ("ma3rftch", "commune")])
async def test_i_dont_know_classified_as_a_need_to_talk_still_answers(
    dispatcher, domain, text, requested
):
    tracker = form_tracker(text, {requested: text}, intent="need_listening", requested=requested)
    events = await validate(dispatcher, domain, tracker)
    assert events["profile_skipped"] == [requested]
    assert responses(dispatcher) == ["utter_profile_skip"]


async def test_a_goal_said_in_free_words_at_the_start_is_not_asked(dispatcher, domain):
    # "3andi 24 3am w bghit khdma" classified `inform`: the goal is read from the text.
    tracker = form_tracker("3andi 24 3am w bghit khdma", {"age": "24"}, intent="inform")
    tracker.active_loop = {"name": "profile_form"}  # as Rasa sends it at activation
    events = await validate(dispatcher, domain, tracker)
    assert events["goal"] == "job" and events["age"] == 24
    assert events["requested_slot"] == "profile_consent"
    # Later answers never change the goal by themselves.
    dispatcher.messages.clear()
    later = form_tracker("khdma", {"situation": "khdma"}, requested="situation")
    assert "goal" not in await validate(dispatcher, domain, later)


# ------------------------------------------------------------------ consent and storage
async def test_consent_yes_is_recorded_and_the_profile_stored(dispatcher, domain, session):
    slots = {"goal": "job", "age": 24, "commune": "ain-harrouda"}
    tracker = form_tracker(
        "/affirm",
        {"profile_consent": True},
        intent="affirm",
        requested="profile_consent",
        slots=slots,
        sender_id="p-yes",
        channel="whatsapp",
    )
    events = await validate(dispatcher, domain, tracker)
    assert events["profile_consent"] is True and events["requested_slot"] == "education"
    consent = session.execute(select(Consent).where(Consent.kind == "profile")).scalar_one()
    assert (consent.person_id, consent.granted) == ("p-yes", True)
    person = session.get(Person, "p-yes")
    assert (person.age, person.goal, person.commune, person.education) == (
        24,
        "job",
        "ain-harrouda",
        None,
    )
    assert person.channel == "whatsapp"

    # Each later answer updates the stored profile.
    tracker = form_tracker(
        "bac+2",
        {"education": "bac+2"},
        requested="education",
        slots={**slots, "profile_consent": True},
        sender_id="p-yes",
    )
    await validate(dispatcher, domain, tracker)
    session.expire_all()
    assert session.get(Person, "p-yes").education == "bac+2"


@pytest.mark.parametrize(("text", "language"), [("non", "fr"), ("لا", "ary"), ("la", "ary_latn")])
async def test_consent_no_is_recorded_nothing_is_stored_and_help_goes_on(
    dispatcher, domain, session, text, language
):
    sender = f"p-no-{language}"
    slots = {"goal": "job", "age": 24}
    tracker = form_tracker(
        text,
        {"profile_consent": text},
        intent="deny",
        requested="profile_consent",
        slots=slots,
        sender_id=sender,
        language=language,
    )
    events = await validate(dispatcher, domain, tracker)
    assert events["profile_consent"] is False
    assert events["requested_slot"] == "education"  # the questions go on (for this search)
    assert responses(dispatcher) == ["utter_profile_consent_refused"]
    consent = session.execute(select(Consent).where(Consent.person_id == sender)).scalar_one()
    assert consent.granted is False

    tracker = form_tracker(
        "bac",
        {"education": "bac"},
        requested="education",
        slots={**slots, "profile_consent": False},
        sender_id=sender,
    )
    await validate(dispatcher, domain, tracker)
    person = session.get(Person, sender)
    assert (person.age, person.education, person.goal) == (None, None, None)


async def test_consent_refused_clears_a_profile_stored_before(dispatcher, domain, session):
    yes = form_tracker(
        "oui",
        {"profile_consent": "oui"},
        requested="profile_consent",
        slots={"age": 30},
        sender_id="p-changes",
    )
    await validate(dispatcher, domain, yes)
    assert session.get(Person, "p-changes").age == 30
    no = form_tracker(
        "non",
        {"profile_consent": False},
        intent="deny",
        requested="profile_consent",
        slots={"age": 30},
        sender_id="p-changes",
    )
    await validate(dispatcher, domain, no)
    session.expire_all()
    assert session.get(Person, "p-changes").age is None


async def test_consent_given_in_an_earlier_journey_is_not_recorded_again(
    dispatcher, domain, session
):
    tracker = form_tracker(
        "bghit formation",
        {"profile_consent": True, "goal": "training"},
        intent="seek_training",
        sender_id="p-back",
    )
    events = await validate(dispatcher, domain, tracker)
    assert events["profile_consent"] is True
    assert session.execute(select(Consent)).scalars().all() == []
    assert session.get(Person, "p-back").goal == "training"


async def test_an_unclear_consent_is_asked_again_then_taken_as_no(dispatcher, domain, database_url):
    events = await validate(
        dispatcher,
        domain,
        form_tracker("bzaf", {"profile_consent": "bzaf"}, requested="profile_consent"),
    )
    assert events["profile_reasked"] == ["profile_consent"]
    ActionAskProfileConsent().run(dispatcher, form_tracker("bzaf", events), domain)
    assert responses(dispatcher) == ["utter_ask_profile_consent_again"]
    dispatcher.messages.clear()
    events = await validate(
        dispatcher,
        domain,
        form_tracker(
            "hmm",
            {"profile_consent": "hmm"},
            requested="profile_consent",
            slots={"profile_reasked": ["profile_consent"]},
        ),
    )
    assert events["profile_consent"] is None and events["profile_skipped"] == ["profile_consent"]
    assert responses(dispatcher) == ["utter_profile_consent_refused"]  # nothing kept: said so


# ------------------------------------------------------------------ questions
def test_questions_use_the_example_only_after_a_miss(dispatcher, domain):
    ActionAskCommune().run(dispatcher, form_tracker(""), domain)
    # The validation of this very message put the question in profile_reasked: a miss.
    ActionAskCommune().run(dispatcher, form_tracker("", {"profile_reasked": ["commune"]}), domain)
    assert responses(dispatcher) == ["utter_ask_commune", "utter_ask_commune_again"]


@pytest.mark.parametrize("text", ["ok", "merci", "chno howa idmaj?"])
def test_after_a_miss_a_small_word_or_an_aside_gets_the_plain_question(dispatcher, domain, text):
    """Seen live: "la" (a miss), then "ok", "merci bzf" and a programme question each
    got "Ma fhmtch 🤔 Khtar mn la liste..." again: the miss of an earlier turn, still in
    profile_reasked, chose the wording. Only a miss in this turn does now."""
    earlier_miss = {"profile_reasked": ["situation"]}
    ActionAskSituation().run(dispatcher, form_tracker(text, slots=earlier_miss), domain)
    assert responses(dispatcher) == ["utter_ask_situation"]


def test_every_question_exists_with_and_without_example(domain):
    for slot in domain["forms"]["profile_form"]["required_slots"]:
        assert f"action_ask_{slot}" in domain["actions"]
        assert f"utter_ask_{slot}" in domain["responses"]
        assert f"utter_ask_{slot}_again" in domain["responses"]


# ---------------------------------------------------------- the form never holds anyone back
def test_interrupting_intents_are_never_read_as_answers(domain):
    for slot in domain["forms"]["profile_form"]["required_slots"]:
        for mapping in domain["slots"][slot]["mappings"]:
            if mapping["type"] in ("from_text", "from_entity"):
                assert set(FORM_INTERRUPTIONS) <= set(mapping.get("not_intent", [])), slot


def test_every_interrupting_intent_has_a_rule_while_the_form_is_active():
    rules = yaml.safe_load(Path(PROJECT_ROOT / "bot/data/orientation.yml").read_text("utf-8"))
    during_form = {
        rule["steps"][0]["intent"]: [step.get("action") for step in rule["steps"][1:]]
        for rule in rules["rules"]
        if rule.get("condition") == [{"active_loop": "profile_form"}]
        and "intent" in rule["steps"][0]
    }
    # The safety actions end the loop themselves (bot/nlu/interruptions.py predicts them);
    # for distress, Rasa sends the emergency contacts itself first (never lost, even with
    # the action server down), then the action queues the urgent request.
    assert during_form["ask_human"][0] == "action_request_human"
    assert during_form["distress"][:2] == ["utter_distress_contacts", "action_distress"]
    for intent in FORM_EXITS + SOFT_EXITS:
        if intent not in ("ask_human", "distress"):
            assert during_form[intent][0] == "action_deactivate_loop", intent
    for intent in FORM_ASIDES:
        assert during_form[intent][-2] == "profile_form", intent


def test_the_goal_comes_from_the_first_message_or_the_goal_question_only(domain):
    for mapping in domain["slots"]["goal"]["mappings"]:
        if mapping["type"] == "from_intent":
            assert mapping["conditions"] == [
                {"active_loop": None},
                {"active_loop": "profile_form", "requested_slot": "goal"},
            ]
