"""Handoff actions with trackers and CollectingDispatcher, against the real database:
distress (urgent, emergency contacts, pause), requests, opening hours, cancel, fallback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.actions import handoff as handoff_actions
from bot.actions.handoff import (
    ActionCancelRequest,
    ActionDefaultFallback,
    ActionDistress,
    ActionRequestHuman,
)
from bot.settings import get_settings
from bot.storage.models import AuditEntry, Handoff

ALL_WEEK = "\n".join(
    f"  {day}: ['00:00-23:59']"
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)


def write_centre(tmp_path, monkeypatch, *, closed_today: bool) -> None:
    """centre.yml open all day every day, or closed today only (deterministic)."""
    from bot.centre import load_centre

    shipped = (PROJECT_ROOT / "centre.yml").read_text(encoding="utf-8")
    before, rest = shipped.split("opening_hours:\n", 1)
    after = rest[rest.index("# Days the centre") :]
    text = f"{before}opening_hours:\n{ALL_WEEK}\n{after}"
    if closed_today:
        today = load_centre(PROJECT_ROOT / "centre.yml").local().date().isoformat()
        text = text.replace("closed_on:\n", f"closed_on:\n  - '{today}'\n")
    path = tmp_path / "centre.yml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("BOUSLA_CENTRE_FILE", str(path))
    get_settings.cache_clear()


@pytest.fixture
def centre_open(tmp_path, monkeypatch):
    write_centre(tmp_path, monkeypatch, closed_today=False)


@pytest.fixture
def centre_closed(tmp_path, monkeypatch):
    write_centre(tmp_path, monkeypatch, closed_today=True)


def responses(dispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


CONTACT_LABELS = {
    "fr": ["📞 15 — Protection civile", "📞 19 — Police", "📞 177 — Gendarmerie", "📞 112 —"],
    "ary": ["📞 15 — الوقاية المدنية", "📞 19 — البوليس", "📞 177 — الدرك الملكي", "📞 112 —"],
    "ary_latn": ["📞 15 — Protection civile", "📞 19 — Police", "📞 177 — Gendarmerie", "📞 112 —"],
}


@pytest.mark.parametrize(
    ("language", "text"),
    [("fr", "je veux mourir"), ("ary", "بغيت نقتل راسي"), ("ary_latn", "bghit n9tel rassi")],
)
async def test_distress_queues_an_urgent_request_sends_contacts_and_pauses(
    tracker_factory, dispatcher, session, centre_open, language, text
):
    tracker = tracker_factory(
        sender_id=f"p-{language}",
        text=text,
        intent="distress",
        slots={"language": language},
        channel="whatsapp",
    )
    tracker.latest_message["safety"] = {"source": "lexicon", "category": "suicide"}
    events = await ActionDistress().run(dispatcher, tracker, {})

    assert responses(dispatcher) == ["utter_distress_contacts", "utter_distress_counsellor"]
    contacts = dispatcher.messages[0]["contacts"]
    for label in CONTACT_LABELS[language]:
        assert label in contacts
    assert "Stop Silence" not in contacts
    assert events[-1] == {"event": "pause", "timestamp": None}

    handoff = session.execute(select(Handoff)).scalar_one()
    assert (handoff.person_id, handoff.reason, handoff.priority, handoff.status) == (
        f"p-{language}",
        "distress",
        "urgent",
        "open",
    )
    assert (handoff.channel, handoff.language) == ("whatsapp", language)
    audit = session.execute(select(AuditEntry)).scalar_one()
    assert (audit.actor, audit.action, audit.details) == (
        "bot",
        "distress_detected",
        {"source": "lexicon", "category": "suicide"},
    )


async def test_distress_outside_opening_hours_says_when_someone_reads(
    tracker_factory, dispatcher, database_url, centre_closed
):
    tracker = tracker_factory(text="bghit nmout", intent="distress", slots={"language": "ary_latn"})
    await ActionDistress().run(dispatcher, tracker, {})
    assert responses(dispatcher)[-1] == "utter_distress_when_closed"
    assert dispatcher.messages[-1]["when"] == "ghedda m3a 0:00"


async def test_distress_ends_an_active_form(tracker_factory, dispatcher, database_url, centre_open):
    tracker = tracker_factory(
        text="je veux mourir",
        intent="distress",
        active_loop={"name": "profile_form"},
        slots={"requested_slot": "commune"},
    )
    events = await ActionDistress().run(dispatcher, tracker, {})
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert {"event": "slot", "name": "requested_slot", "value": None, "timestamp": None} in events


async def test_distress_contacts_go_out_even_if_the_database_fails(
    tracker_factory, dispatcher, database_url, centre_open, monkeypatch
):
    async def broken(_work):
        raise RuntimeError("database down")

    monkeypatch.setattr(handoff_actions, "in_session", broken)
    tracker = tracker_factory(text="je veux mourir", intent="distress")
    events = await ActionDistress().run(dispatcher, tracker, {})
    assert responses(dispatcher)[0] == "utter_distress_contacts"
    assert events[-1]["event"] == "pause"


async def test_distress_contacts_go_out_even_with_a_broken_centre_file(
    tracker_factory, dispatcher, database_url, tmp_path, monkeypatch
):
    broken = tmp_path / "centre.yml"
    broken.write_text("opening_hours: nonsense\n", encoding="utf-8")
    monkeypatch.setenv("BOUSLA_CENTRE_FILE", str(broken))
    get_settings.cache_clear()
    tracker = tracker_factory(text="je veux mourir", intent="distress")
    await ActionDistress().run(dispatcher, tracker, {})
    assert "📞 15 — Protection civile" in dispatcher.messages[0]["contacts"]  # shipped copy


@pytest.mark.parametrize(
    ("intent", "previous", "reason"),
    [
        ("ask_human", None, "ask_human"),
        ("affirm", "utter_offer_counsellor", "need_listening"),
        ("ask_human", "utter_offer_counsellor", "need_listening"),
    ],
)
async def test_request_human_reason(
    tracker_factory, dispatcher, session, centre_open, intent, previous, reason
):
    events = []
    if previous:
        events = [
            {"event": "user", "text": "ça va pas", "parse_data": {}},
            {"event": "action", "name": previous},
            {"event": "action", "name": "action_listen"},
        ]
    tracker = tracker_factory(text="oui", intent=intent, events=events)
    await ActionRequestHuman().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff_queued"]
    assert session.execute(select(Handoff.reason)).scalar_one() == reason


async def test_request_outside_hours_says_when_and_ends_a_form(
    tracker_factory, dispatcher, database_url, centre_closed
):
    tracker = tracker_factory(
        text="conseiller", intent="ask_human", active_loop={"name": "profile_form"}
    )
    events = await ActionRequestHuman().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_handoff_queued", "utter_handoff_when_closed"]
    assert dispatcher.messages[1]["when"] == "demain à 0h00"
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


async def test_cancel_withdraws_a_waiting_request_but_never_an_urgent_one(
    tracker_factory, dispatcher, session, centre_open
):
    await ActionRequestHuman().run(dispatcher, tracker_factory("p-cancel", intent="ask_human"), {})
    await ActionDistress().run(dispatcher, tracker_factory("p-urgent", intent="distress"), {})
    dispatcher.messages.clear()

    await ActionCancelRequest().run(dispatcher, tracker_factory("p-cancel", intent="cancel"), {})
    assert responses(dispatcher) == ["utter_handoff_cancelled", "utter_main_menu"]
    dispatcher.messages.clear()
    await ActionCancelRequest().run(dispatcher, tracker_factory("p-urgent", intent="cancel"), {})
    await ActionCancelRequest().run(dispatcher, tracker_factory("p-none", intent="cancel"), {})
    assert responses(dispatcher) == ["utter_main_menu", "utter_main_menu"]

    statuses = dict(session.execute(select(Handoff.person_id, Handoff.status)).all())
    assert statuses == {"p-cancel": "cancelled", "p-urgent": "open"}


async def test_two_misunderstandings_in_a_row_ask_a_counsellor(
    tracker_factory, dispatcher, session, centre_open
):
    tracker = tracker_factory(
        text="???", intent="nlu_fallback", active_loop={"name": "action_two_stage_fallback"}
    )
    events = await ActionDefaultFallback().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_fallback_handoff"]
    # Until the hand-back, the person's messages are for the counsellor (handoff_open).
    assert events == [
        {"event": "rewind", "timestamp": None},
        {"event": "slot", "name": "handoff_open", "timestamp": None, "value": True},
    ]
    assert session.execute(select(Handoff.reason)).scalar_one() == "fallback"


async def test_policy_fallback_without_misunderstanding_shows_the_menu(
    tracker_factory, dispatcher, session
):
    events = await ActionDefaultFallback().run(dispatcher, tracker_factory(intent="affirm"), {})
    assert responses(dispatcher) == ["utter_default"]
    assert events == [{"event": "rewind", "timestamp": None}]
    assert session.execute(select(Handoff)).first() is None


async def test_nothing_is_said_by_slot_validation_while_a_counsellor_holds_the_conversation(
    tracker_factory, dispatcher, database_url
):
    from bot.actions.slot_mappings import ValidateSlotMappings

    tracker = tracker_factory(sender_id="p-paused", text="salam", intent="greet")
    tracker._paused = True  # as Rasa sends it while the conversation is paused
    await ValidateSlotMappings().run(dispatcher, tracker, {})
    assert dispatcher.messages == []


async def test_distress_after_rasa_sent_the_contacts_does_not_send_them_again(
    tracker_factory, dispatcher, session, centre_open
):
    tracker = tracker_factory(text="bghit n9tel rassi", intent="distress")
    tracker.events.append({"event": "action", "name": "utter_distress_contacts"})
    events = await ActionDistress().run(dispatcher, tracker, {})
    assert responses(dispatcher) == ["utter_distress_counsellor"]
    assert events[-1] == {"event": "pause", "timestamp": None}
    assert session.execute(select(Handoff.reason)).scalar_one() == "distress"


async def test_distress_action_without_a_danger_message_opens_nothing(
    tracker_factory, dispatcher, session, centre_open
):
    # e.g. a "wakha" after a hand-back, if a dialogue model predicted it from the past
    tracker = tracker_factory(text="wakha", intent="affirm", slots={"language": "ary_latn"})
    assert await ActionDistress().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages == []
    assert session.execute(select(Handoff)).first() is None


@pytest.mark.parametrize(("text", "intent"), [("/ask_human", "ask_human"), ("ah", "affirm")])
async def test_yes_to_the_safety_check_in_is_an_urgent_request(
    tracker_factory, dispatcher, session, centre_open, text, intent
):
    tracker = tracker_factory(
        text=text,
        intent=intent,
        slots={"language": "ary_latn"},
        events=[
            {"event": "user", "text": "3yit mn had l7ayat"},
            {"event": "action", "name": "utter_safety_check_in"},
            {"event": "action", "name": "action_listen"},
        ],
    )
    await ActionRequestHuman().run(dispatcher, tracker, {})
    assert responses(dispatcher)[0] == "utter_handoff_queued"
    handoff = session.execute(select(Handoff)).scalar_one()
    assert (handoff.reason, handoff.priority) == ("check_in", "urgent")
