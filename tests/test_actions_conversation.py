"""Action tests with tracker fixtures and CollectingDispatcher (the rasa-demo way)."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.fallback import ActionDefaultAskAffirmation
from bot.actions.handoff import ActionRequestHuman
from bot.actions.language import ActionDetectLanguage
from bot.actions.slot_mappings import ValidateSlotMappings
from bot.privacy import NOTICE_VERSION
from bot.storage.models import Consent, Handoff


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("text", "current", "expected"),
    [
        ("salam, bghit nl9a khdma", "fr", {"language": "ary_latn"}),
        ("السلام عليكم بغيت نلقى خدمة", "fr", {"language": "ary"}),
        ("Bonjour, je cherche une formation", "ary", {"language": "fr"}),
        ("ok", "ary", {}),  # too short to tell: the language stays
        ("1", "ary_latn", {}),
        ("👍", "ary", {}),
        ("je cherche un travail", "fr", {}),  # unchanged: no event
    ],
)
def test_language_follows_messages_and_sticks_on_short_ones(
    tracker_factory, dispatcher, text, current, expected
):
    tracker = tracker_factory(text=text, intent="seek_job", slots={"language": current})
    events = ActionDetectLanguage().run(dispatcher, tracker, {})
    assert slot_events(events) == expected
    assert dispatcher.messages == []


def test_button_payload_does_not_change_the_language(tracker_factory, dispatcher):
    tracker = tracker_factory(text="/seek_job", intent="seek_job", slots={"language": "ary"})
    assert ActionDetectLanguage().run(dispatcher, tracker, {}) == []


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("parle-moi en français", "fr", "fr"),
        ("بالدارجة عافاك", "darija", "ary"),
        ("hder m3aya b darija", "darija", "ary_latn"),
        ("ktb b l3arbiya", "ary", "ary"),
    ],
)
def test_change_language_overrides_and_locks(tracker_factory, dispatcher, text, target, expected):
    tracker = tracker_factory(
        text=text,
        intent="change_language",
        entities=[{"entity": "target_language", "value": target}],
        slots={"language": "fr" if expected != "fr" else "ary"},
    )
    events = slot_events(ActionDetectLanguage().run(dispatcher, tracker, {}))
    assert events == {"language": expected, "language_locked": True}


def test_locked_language_is_kept(tracker_factory, dispatcher):
    tracker = tracker_factory(
        text="je cherche un travail",
        intent="seek_job",
        slots={"language": "ary", "language_locked": True},
    )
    assert ActionDetectLanguage().run(dispatcher, tracker, {}) == []


async def test_consent_notice_on_first_contact_is_shown_and_recorded(
    tracker_factory, dispatcher, session
):
    tracker = tracker_factory(sender_id="first-timer", text="salam", intent="greet")
    events = await ValidateSlotMappings().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_consent_notice"]
    assert slot_events(events) == {"consent_notice_version": NOTICE_VERSION}
    consent = session.execute(select(Consent)).scalar_one()
    assert (consent.person_id, consent.kind, consent.version) == (
        "first-timer",
        "notice",
        NOTICE_VERSION,
    )


async def test_consent_notice_waits_for_a_message_the_person_can_read(
    tracker_factory, dispatcher, session
):
    """A first message in English gets what Bousla speaks; the notice, in French or
    Darija, comes with the first message in one of them (issue 16, item 8)."""
    english = tracker_factory(
        sender_id="english", text="Hello, do you speak English?", intent="other_language"
    )
    assert await ValidateSlotMappings().run(dispatcher, english, {}) == []
    assert dispatcher.messages == []
    assert session.execute(select(Consent)).first() is None
    french = tracker_factory(
        sender_id="english", text="ok je cherche un travail", intent="seek_job"
    )
    await ValidateSlotMappings().run(dispatcher, french, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_consent_notice"]


async def test_consent_notice_is_not_repeated(tracker_factory, dispatcher, database_url):
    tracker = tracker_factory(
        text="bghit khdma", intent="seek_job", slots={"consent_notice_version": NOTICE_VERSION}
    )
    events = await ValidateSlotMappings().run(dispatcher, tracker, {})
    assert dispatcher.messages == []
    assert events == []


def test_fallback_asks_about_the_best_guess(tracker_factory, dispatcher):
    tracker = tracker_factory(
        text="khdma formation?",
        intent="nlu_fallback",
        intent_ranking=[
            {"name": "nlu_fallback", "confidence": 0.45},
            {"name": "seek_training", "confidence": 0.41},
            {"name": "seek_job", "confidence": 0.39},
        ],
    )
    ActionDefaultAskAffirmation().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_did_you_mean_seek_training"]


def test_fallback_asks_to_rephrase_without_a_guess(tracker_factory, dispatcher):
    tracker = tracker_factory(
        text="???",
        intent="nlu_fallback",
        intent_ranking=[{"name": "nlu_fallback", "confidence": 0.9}, {"name": "thank"}],
    )
    ActionDefaultAskAffirmation().run(dispatcher, tracker, {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


@pytest.mark.parametrize(
    ("intent", "reason", "priority"),
    [("ask_human", "ask_human", "normal"), ("distress", "distress", "urgent")],
)
async def test_request_human_queues_a_handoff(
    tracker_factory, dispatcher, session, intent, reason, priority
):
    tracker = tracker_factory(
        sender_id="p-handoff", text="...", intent=intent, slots={"language": "ary"}, channel="rest"
    )
    await ActionRequestHuman().run(dispatcher, tracker, {})
    # (outside opening hours a second message says when; see tests/test_handoff_actions.py)
    assert [m["response"] for m in dispatcher.messages][0] == "utter_handoff_queued"
    handoff = session.execute(select(Handoff)).scalar_one()
    assert (handoff.person_id, handoff.reason, handoff.priority, handoff.language) == (
        "p-handoff",
        reason,
        priority,
        "ary",
    )


@pytest.mark.parametrize(
    ("kind", "text", "response"),
    [
        ("voice", '/media_received{"media_kind":"voice"}', "utter_media_voice"),
        ("photo", '/media_received{"media_kind":"photo"}', "utter_media_received"),
        ("sticker", '/media_received{"media_kind":"sticker"}', "utter_media_received"),
        (None, "t'as écouté mon vocal ?", "utter_media_voice"),
        (None, "chfti tswira?", "utter_media_received"),
    ],
)
def test_media_are_acknowledged_by_kind(tracker_factory, dispatcher, kind, text, response):
    from bot.actions.media import ActionAcknowledgeMedia

    entities = [{"entity": "media_kind", "value": kind}] if kind else []
    tracker = tracker_factory(text=text, intent="media_received", entities=entities)
    assert ActionAcknowledgeMedia().run(dispatcher, tracker, {}) == []
    assert [m["response"] for m in dispatcher.messages] == [response]


async def test_consent_notice_is_not_shown_again_after_a_rewound_turn(
    tracker_factory, dispatcher, session
):
    """A fallback rewinds the turn (and the slot) but the notice was recorded: not again."""
    tracker = tracker_factory(sender_id="rewound", text="salam", intent="greet")
    await ValidateSlotMappings().run(dispatcher, tracker, {})
    again = CollectingDispatcher()
    events = await ValidateSlotMappings().run(again, tracker, {})
    assert again.messages == []
    assert slot_events(events) == {"consent_notice_version": NOTICE_VERSION}
