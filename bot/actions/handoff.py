"""Requests for a human counsellor."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.db import channel_of, in_session
from bot.storage.handoffs import request_handoff

REASON_BY_INTENT = {
    "ask_human": "ask_human",
    "need_listening": "need_listening",
    "distress": "distress",
    "nlu_fallback": "fallback",
}


class ActionRequestHuman(Action):
    """Queues the conversation for a counsellor and tells the person so."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        reason = REASON_BY_INTENT.get(intent, "ask_human")
        await in_session(
            lambda session: request_handoff(
                session,
                person_id=tracker.sender_id,
                channel=channel_of(tracker),
                language=tracker.get_slot("language"),
                reason=reason,
            )
        )
        dispatcher.utter_message(response="utter_handoff_queued")
        return []
