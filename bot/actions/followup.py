"""Follow-up in the conversation: the question about a programme, and its answer.

`action_followup_ask` is run by the Rasa server's follow-up task (bot/followup/scheduler.py)
for the follow-up it has just claimed; it asks "did you contact <programme>?" with four
choices and keeps the follow-up's id in the slot `followup_id`. `action_followup_answer`
runs for a tap on a choice (rule in bot/data/followup.yml) or for the typed message that
follows the question (bot/followup/policy.py): it stores the outcome and answers it, in
the person's language; "a counsellor" queues a request like `action_request_human`.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot.actions.handoff import end_active_loop, queue_request, when_counsellors_answer
from bot.actions.programs import current_catalog, language_of
from bot.followup import store
from bot.followup.answers import outcome_of
from bot.storage.db import in_session

logger = logging.getLogger(__name__)

PENDING_SLOT = "followup_id"  # the open question's follow-up id (text), None once answered
REASKED_SLOT = "followup_reasked"  # the question was asked again after an unclear answer


def _claimed(session: Session, person_id: str) -> tuple[int, str] | None:
    followup = store.claimed_followup(session, person_id)
    return (followup.id, followup.program_id) if followup else None


def _pending_id(tracker: Tracker) -> int | None:
    value = tracker.get_slot(PENDING_SLOT)
    return int(value) if value is not None and str(value).isdigit() else None


async def program_name(program_id: str, language: str) -> str | None:
    program = (await current_catalog()).get(program_id)
    return program.name.get(language) if program is not None else None


class ActionFollowupAsk(Action):
    """The follow-up question about the programme of the person's claimed follow-up."""

    def name(self) -> str:
        return "action_followup_ask"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        claimed = await in_session(lambda session: _claimed(session, tracker.sender_id))
        if claimed is None:
            return []  # nothing to ask (already asked, or the person was erased)
        followup_id, program_id = claimed
        name = await program_name(program_id, language_of(tracker))
        if name is None:
            await in_session(
                lambda session: store.drop(
                    session, followup_id, reason="programme no longer in the catalogue"
                )
            )
            return []
        dispatcher.utter_message(
            response="utter_followup_question", program_name=name, program_id=program_id
        )
        return [
            *end_active_loop(tracker),
            SlotSet(PENDING_SLOT, str(followup_id)),
            SlotSet(REASKED_SLOT, False),
        ]


class ActionFollowupAnswer(Action):
    """Stores the answer to the follow-up question and replies to it."""

    def name(self) -> str:
        return "action_followup_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        outcome = outcome_of(message.get("text"), intent, message.get("entities"))
        done = [SlotSet(PENDING_SLOT, None), SlotSet(REASKED_SLOT, None)]
        followup_id = _pending_id(tracker)
        if outcome is None:
            if followup_id is not None and not tracker.get_slot(REASKED_SLOT):
                dispatcher.utter_message(response="utter_followup_ask_again")
                return [SlotSet(REASKED_SLOT, True)]
            dispatcher.utter_message(response="utter_followup_skipped")
            return done

        program_id = await self._record(tracker, outcome, followup_id)
        if outcome == "counsellor":
            await queue_request(tracker, "ask_human")
            dispatcher.utter_message(response="utter_handoff_queued")
            when = when_counsellors_answer(tracker.get_slot("language"))
            if when:
                dispatcher.utter_message(response="utter_handoff_when_closed", when=when)
            return done
        if program_id is None:  # a typed "I called them" without any question asked
            dispatcher.utter_message(response="utter_followup_noted")
            return done
        language = language_of(tracker)
        dispatcher.utter_message(
            response=f"utter_followup_{outcome}",
            program_id=program_id,
            program_name=await program_name(program_id, language) or program_id,
        )
        return done

    @staticmethod
    async def _record(tracker: Tracker, outcome: str, followup_id: int | None) -> str | None:
        """The programme the answer is about, once stored; None if nothing was asked."""

        def work(session: Session) -> str | None:
            row = store.record_answer(
                session, person_id=tracker.sender_id, outcome=outcome, followup_id=followup_id
            )
            return row.program_id if row is not None else None

        try:
            return await in_session(work)
        except Exception:  # the person still gets an answer; the failure is logged
            logger.exception("Could not store the follow-up answer of %s", tracker.sender_id)
            return None
