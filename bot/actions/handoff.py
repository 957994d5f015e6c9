"""Requests for a human counsellor, the distress safety net, cancelling, and the fallback
that gives up after two misunderstandings.

Every request is queued at once (table `handoffs`); counsellors see it live in the
dashboard. Outside opening hours (centre.yml) the person is also told when someone will
answer. While a request waits, the bot keeps answering and the person may cancel; the bot
goes silent (Rasa's conversation pause) when a counsellor takes the conversation, or at
once on distress. The dashboard resumes it when the counsellor hands back.

`action_request_human` and `action_distress` also end any active form or loop, so that
no form can hold a person who asks for help (see `bot.nlu.interruptions`).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import PROJECT_ROOT
from bot.actions.tracker import channel_of
from bot.centre import Centre, CentreConfigError, load_centre
from bot.handoffs.service import cancel_waiting_handoff, request_from_bot
from bot.storage.db import in_session

logger = logging.getLogger(__name__)

REASON_BY_INTENT = {
    "ask_human": "ask_human",
    "need_listening": "need_listening",
    "distress": "distress",
    "nlu_fallback": "fallback",
}
# Accepting this offer (button or "oui") is a request that started as a need to talk.
LISTENING_OFFER = "utter_offer_counsellor"
# Accepting the safety check-in (or more distress after it) is an urgent request.
SAFETY_CHECK_IN = "utter_safety_check_in"
# The contacts Rasa sends itself before action_distress (bot/nlu/interruptions.py).
CONTACTS_RESPONSE = "utter_distress_contacts"
TWO_STAGE_FALLBACK = "action_two_stage_fallback"
# Last resort if centre.yml cannot be read: the national numbers, without labels.
NATIONAL_EMERGENCY_NUMBERS = ("15", "19", "177", "112")
# True while a request is open: the person's messages are for the counsellor
# (bot/nlu/conversation.py); emptied by cancelling and by the dashboard's hand-back.
HANDOFF_OPEN = "handoff_open"


def current_centre() -> Centre | None:
    """centre.yml as configured, else the shipped copy; None (logged) if neither reads."""
    try:
        return load_centre()
    except CentreConfigError:
        logger.exception("centre.yml cannot be used; trying the shipped copy")
    try:
        return load_centre(PROJECT_ROOT / "centre.yml")
    except CentreConfigError:
        logger.exception("The shipped centre.yml cannot be used either")
        return None


def when_counsellors_answer(language: str | None) -> str:
    """ "demain à 9h00" outside opening hours, "" when counsellors are on duty now."""
    centre = current_centre()
    return centre.when_open_phrase(language) if centre else ""


def previous_action(tracker: Tracker) -> str | None:
    """The last action the bot ran before the person's latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") != "action_listen":
            return event.get("name")
    return None


def handoff_reason(tracker: Tracker) -> str:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if previous_action(tracker) == SAFETY_CHECK_IN:
        return "check_in"
    if intent in ("ask_human", "affirm") and previous_action(tracker) == LISTENING_OFFER:
        return "need_listening"
    return REASON_BY_INTENT.get(intent, "ask_human")


def contacts_already_sent(tracker: Tracker) -> bool:
    """Whether Rasa sent the emergency contacts since the person's latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == CONTACTS_RESPONSE:
            return True
    return False


def end_active_loop(tracker: Tracker) -> list[dict[str, Any]]:
    """Events that end whatever form or loop is running, so help is never blocked."""
    if not tracker.active_loop_name:
        return []
    events: list[dict[str, Any]] = [ActiveLoop(None)]
    if tracker.slots.get("requested_slot") is not None:
        events.append(SlotSet("requested_slot", None))
    return events


async def queue_request(tracker: Tracker, reason: str, details: dict | None = None) -> int | None:
    """Queue (or join) the person's request; returns the handoff id, None if it failed."""

    def work(session: Session) -> int:
        return request_from_bot(
            session,
            person_id=tracker.sender_id,
            channel=channel_of(tracker),
            language=tracker.get_slot("language"),
            reason=reason,
            details=details or None,
        )

    try:
        return await in_session(work)
    except Exception:  # the person must still get an answer; the failure is logged loudly
        logger.exception("Could not queue a %s request for %s", reason, tracker.sender_id)
        return None


class ActionRequestHuman(Action):
    """Queues the conversation for a counsellor and tells the person so."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reason = handoff_reason(tracker)
        safety = (tracker.latest_message or {}).get("safety") or {}
        details = None
        if reason == "check_in":  # the check-in's answer may carry its own safety reading
            details = {"source": safety.get("source"), "category": safety.get("category")}
        await queue_request(tracker, reason, details=details)
        dispatcher.utter_message(response="utter_handoff_queued")
        when = when_counsellors_answer(tracker.get_slot("language"))
        if when:
            dispatcher.utter_message(response="utter_handoff_when_closed", when=when)
        # Until the hand-back, what the person writes is for the counsellor.
        return [*end_active_loop(tracker), SlotSet(HANDOFF_OPEN, True)]


class ActionDistress(Action):
    """Danger: urgent request, emergency contacts at once, then the bot goes silent.

    Rasa itself sends the contacts just before (`utter_distress_contacts`, see
    `bot.nlu.interruptions`); they are sent here only when it did not.

    Nothing here may stop the contacts from being sent: a database or configuration
    failure is logged and the message still goes out.
    """

    def name(self) -> str:
        return "action_distress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = tracker.get_slot("language")
        latest = tracker.latest_message or {}
        safety = latest.get("safety") or {"source": "model"}
        intent = (latest.get("intent") or {}).get("name")
        if intent != "distress" and safety.get("tier") != "danger":
            # Predicted from the conversation's past (a "wakha" after a hand-back), not
            # from what the person just wrote: no alarm, no request.
            logger.warning("action_distress without a danger message; nothing done")
            return []
        await queue_request(
            tracker,
            "distress",
            details={"source": safety.get("source"), "category": safety.get("category")},
        )
        centre = current_centre()
        if not contacts_already_sent(tracker):
            contacts = (
                centre.emergency_lines(language)
                if centre
                else "\n".join(f"📞 {number}" for number in NATIONAL_EMERGENCY_NUMBERS)
            )
            dispatcher.utter_message(response="utter_distress_contacts", contacts=contacts)
        dispatcher.utter_message(response="utter_distress_counsellor")
        when = centre.when_open_phrase(language) if centre else ""
        if when:
            dispatcher.utter_message(response="utter_distress_when_closed", when=when)
        return [*end_active_loop(tracker), SlotSet(HANDOFF_OPEN, True), ConversationPaused()]


class ActionCancelRequest(Action):
    """`cancel`: withdraws a request nobody has taken yet, then shows the menu."""

    def name(self) -> str:
        return "action_cancel_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        cancelled = await in_session(
            lambda session: cancel_waiting_handoff(session, person_id=tracker.sender_id) is not None
        )
        if cancelled:
            dispatcher.utter_message(response="utter_handoff_cancelled")
        dispatcher.utter_message(response="utter_main_menu")
        return [SlotSet(HANDOFF_OPEN, None)]


class ActionDefaultFallback(Action):
    """Rasa's fallback, overridden: when the two-stage fallback gives up (two
    misunderstandings in a row), a counsellor is asked to answer."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if tracker.active_loop_name != TWO_STAGE_FALLBACK:
            # The dialogue policies are unsure (not a misunderstanding): menu and help.
            dispatcher.utter_message(response="utter_default")
            return [UserUtteranceReverted()]
        await queue_request(tracker, "fallback")
        dispatcher.utter_message(response="utter_fallback_handoff")
        when = when_counsellors_answer(tracker.get_slot("language"))
        if when:
            dispatcher.utter_message(response="utter_handoff_when_closed", when=when)
        return [UserUtteranceReverted(), SlotSet(HANDOFF_OPEN, True)]
