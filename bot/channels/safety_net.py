"""Never lost: what the delivery worker does when a distress turn did not go through.

Rasa sends the emergency contacts itself (`utter_distress_contacts`, rendered from
centre.yml by `bot.centre.nlg`), then runs `action_distress` on the action server, which
queues the urgent request and pauses the bot. When the action server is down, Rasa logs
the failure and drops that action's events; when the whole turn fails (the model, a
store...), nothing at all is said. The worker checks after each turn, and after each
failed attempt:

- a `danger` message whose turn did not pause the bot: the urgent request is queued here,
  the person gets the contacts (if Rasa did not send them) and the counsellor message,
  and the bot is paused, as `action_distress` would have done;
- a turn that failed: if the lexicon finds danger in the text, the contacts and the
  counsellor message go out and the urgent request is queued at once, before any retry;
- a turn given up after every retry: the person is told in their script that a
  counsellor will answer (`utter_turn_failed`) and an urgent `turn_failed` request shows
  on the dashboard as an alert.

Messages sent here have their own idempotency keys (`safety:<inbound id>:<n>`,
`failed:<inbound id>:<n>`): retrying a message never sends them twice, and a request
joins the person's active one.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.centre.config import emergency_contacts_text
from bot.handoffs.service import request_from_bot
from bot.language import detect
from bot.safety import DANGER, assess
from bot.storage.db import in_session
from bot.storage.rasa_stores import tracker_saved_after_turn

logger = logging.getLogger(__name__)

CONTACTS = "utter_distress_contacts"
COUNSELLOR = "utter_distress_counsellor"
TURN_FAILED = "utter_turn_failed"


def _events_after(tracker: DialogueStateTracker, message_id: str) -> tuple[dict, list[Event]]:
    """The parse data of the message `message_id` and the events after it."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and event.message_id == message_id:
            return event.parse_data or {}, events[index + 1 :]
    return {}, []


def is_danger(parse_data: dict[str, Any]) -> bool:
    safety = parse_data.get("safety") or {}
    intent = (parse_data.get("intent") or {}).get("name")
    return safety.get("tier") == DANGER or intent == "distress"


async def _queue_urgent(
    person_id: str, channel: str, language: str | None, reason: str, details: dict
) -> int | None:
    def work(session: Any) -> int:
        return request_from_bot(
            session,
            person_id=person_id,
            channel=channel,
            language=language,
            reason=reason,
            details=details,
        )

    try:
        return await in_session(work)
    except Exception:
        logger.exception("Could not queue the %s request for %s", reason, person_id)
        return None


async def _say(agent: Any, tracker: DialogueStateTracker, output: Any, response: str) -> None:
    extra = {}
    if response == CONTACTS:  # whatever generator the agent has (bot.centre.nlg)
        extra["contacts"] = emergency_contacts_text(tracker.get_slot("language"))
    message = await agent.nlg.generate(response, tracker, output.name(), **extra)
    if message:
        await output.send_response(tracker.sender_id, message)


def _language(tracker: DialogueStateTracker | None, text: str | None) -> str:
    language = tracker.get_slot("language") if tracker is not None else None
    return language or detect(text or "").lang


async def _tracker(agent: Any, person_id: str, text: str | None) -> DialogueStateTracker:
    """The person's tracker (for the language slot), or a new one if it cannot be read."""
    tracker = None
    try:
        tracker = await agent.tracker_store.retrieve(person_id)
    except Exception:
        logger.exception("Safety net: the tracker of %s cannot be read", person_id)
    if tracker is None or not tracker.get_slot("language"):
        slots = agent.domain.slots if agent.domain else []
        tracker = DialogueStateTracker.from_events(
            person_id, [SlotSet("language", _language(tracker, text))], slots=slots
        )
    return tracker


async def follow_through(agent: Any, row: Any, message_id: str, output: Any) -> None:
    """After a turn that went through: a danger message must have paused the bot (the
    sign that `action_distress` ran); if not, do here what it would have done."""
    if agent is None or agent.tracker_store is None:
        return
    tracker = tracker_saved_after_turn(agent.tracker_store, row.person_id, message_id)
    if tracker is None:
        tracker = await agent.tracker_store.retrieve(row.person_id)
    if tracker is None:
        return
    parse_data, after = _events_after(tracker, message_id)
    if not parse_data or not is_danger(parse_data):
        return
    if any(isinstance(event, ConversationPaused) for event in after):
        return  # action_distress ran: request queued, contacts sent, bot paused
    if tracker.is_paused():
        return  # a counsellor holds the conversation and reads this message live
    logger.warning("Distress turn of %s without action_distress: safety net", row.person_id)
    safety = parse_data.get("safety") or {}
    await _queue_urgent(
        row.person_id,
        row.channel,
        tracker.get_slot("language"),
        "distress",
        {
            "source": safety.get("source") or "model",
            "category": safety.get("category"),
            "by": "delivery worker",
        },
    )
    output.keyed(f"safety:{row.id}")
    contacts_sent = any(
        isinstance(event, ActionExecuted) and event.action_name == CONTACTS for event in after
    )
    if not contacts_sent:
        await _say(agent, tracker, output, CONTACTS)
    await _say(agent, tracker, output, COUNSELLOR)
    tracker.update(ConversationPaused())
    await agent.tracker_store.save(tracker)


async def after_failed_attempt(
    agent: Any, row: Any, text: str | None, output: Any, *, given_up: bool
) -> None:
    """After an attempt that failed: danger in the text gets the contacts and the urgent
    request at once; a message given up tells the person and raises an alert."""
    danger = bool(text) and assess(text).tier == DANGER
    if agent is None or not (danger or given_up):
        return
    tracker = await _tracker(agent, row.person_id, text)
    language = tracker.get_slot("language")
    if danger:
        found = assess(text)
        await _queue_urgent(
            row.person_id,
            row.channel,
            language,
            "distress",
            {"source": found.source, "category": found.category, "by": "delivery worker"},
        )
        output.keyed(f"safety:{row.id}")
        await _say(agent, tracker, output, CONTACTS)
        await _say(agent, tracker, output, COUNSELLOR)
    if given_up:
        await _queue_urgent(
            row.person_id, row.channel, language, "turn_failed", {"inbound_id": row.id}
        )
        output.keyed(f"failed:{row.id}")
        await _say(agent, tracker, output, TURN_FAILED)
