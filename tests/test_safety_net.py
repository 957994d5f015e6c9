"""The delivery worker's safety net (bot/channels/safety_net.py) with the real trained
model and the real database: a failed distress message still gets the contacts and an
urgent request; a message given up after every retry is said to the person in their
script and shows as an alert in the queue; nothing is sent twice. The action server
killed mid-conversation is in tests/test_safety_stack.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select

from bot.channels import safety_net
from bot.channels.whatsapp import WhatsAppOutput
from bot.handoffs.views import list_handoffs
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Handoff, OutboundMessage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def agent(loaded_model):
    """The session's loaded model (conftest.py); the trackers kept in its in-memory store
    here are those of this module's people only."""
    return loaded_model


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(f"{response}/{language}")


def fail(agent, person_id: str, inbound_id: int, text: str, *, given_up: bool) -> None:
    row = SimpleNamespace(id=inbound_id, person_id=person_id, channel="whatsapp")
    output = WhatsAppOutput(inbound_id, None)
    asyncio.run(safety_net.after_failed_attempt(agent, row, text, output, given_up=given_up))


def sent_to(person_id: str) -> list[str]:
    with session_scope() as session:
        return list(
            session.execute(
                select(OutboundMessage.text)
                .where(OutboundMessage.person_id == person_id)
                .order_by(OutboundMessage.id)
            ).scalars()
        )


def requests_of(person_id: str) -> list[tuple[str, str, str]]:
    with session_scope() as session:
        return [
            (h.reason, h.priority, h.status)
            for h in session.execute(select(Handoff).where(Handoff.person_id == person_id))
            .scalars()
            .all()
        ]


def test_danger_in_a_failed_message_gets_the_contacts_and_the_request_once(
    database_url, agent, domain
):
    person = "whatsapp-safety-net-1"
    fail(agent, person, 501, "wallah bghit n9tel rassi", given_up=False)
    sent = sent_to(person)
    assert len(sent) == 2, sent
    assert "📞 19 — Police" in sent[0] and "📞 112" in sent[0]
    assert sent[1] == variant(domain, "utter_distress_counsellor", "ary_latn")
    assert requests_of(person) == [("distress", "urgent", "open")]

    # The next attempt fails again: nothing is sent twice, the request is the same.
    fail(agent, person, 501, "wallah bghit n9tel rassi", given_up=False)
    assert sent_to(person) == sent
    assert requests_of(person) == [("distress", "urgent", "open")]


def test_a_message_given_up_is_said_to_the_person_and_shows_as_an_alert(
    database_url, agent, domain
):
    person = "whatsapp-safety-net-2"
    fail(agent, person, 502, "Bonjour, je cherche une formation en cuisine", given_up=False)
    assert sent_to(person) == [] and requests_of(person) == []  # retried later, quietly

    fail(agent, person, 502, "Bonjour, je cherche une formation en cuisine", given_up=True)
    assert sent_to(person) == [variant(domain, "utter_turn_failed", "fr")]
    assert requests_of(person) == [("turn_failed", "urgent", "open")]
    with session_scope() as session:
        [view] = [v for v in list_handoffs(session) if v.handoff.person_id == person]
        assert view.tier == "alert"
        audit = session.execute(
            select(AuditEntry.action).where(AuditEntry.target_id == str(view.handoff.id))
        ).scalars()
        assert "turn_failed" in list(audit)


def test_a_distress_turn_whose_action_failed_is_completed_by_the_worker(
    database_url, agent, domain
):
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered

    person = "whatsapp-safety-net-3"
    said = UserUttered(
        "je veux mourir",
        intent={"name": "distress", "confidence": 1.0},
        parse_data={"safety": {"tier": "danger", "category": "suicide", "source": "lexicon"}},
        message_id="whatsapp:SM503",
    )
    # What Rasa keeps when the action server is down: the contacts Rasa rendered itself,
    # then action_distress without its events (no request, no pause).
    events = [SlotSet("language", "fr"), ActionExecuted("action_listen"), said]
    events += [ActionExecuted("utter_distress_contacts"), ActionExecuted("action_distress")]
    tracker = DialogueStateTracker.from_events(person, events, slots=agent.domain.slots)
    asyncio.run(agent.tracker_store.save(tracker))
    row = SimpleNamespace(id=503, person_id=person, channel="whatsapp")

    asyncio.run(safety_net.follow_through(agent, row, "whatsapp:SM503", WhatsAppOutput(503, None)))
    assert sent_to(person) == [variant(domain, "utter_distress_counsellor", "fr")]
    assert requests_of(person) == [("distress", "urgent", "open")]
    assert asyncio.run(agent.tracker_store.retrieve(person)).is_paused()

    # Paused now: the worker does nothing more for this turn.
    asyncio.run(safety_net.follow_through(agent, row, "whatsapp:SM503", WhatsAppOutput(503, None)))
    assert len(sent_to(person)) == 1
