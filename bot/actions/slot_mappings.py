"""Global slot validation, run by Rasa after every message (before the next action).

It shows the consent notice on first contact, together with the answer to the
person's first message and never instead of it: Rasa sends messages from this action
first, then predicts the answer as usual.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker, ValidationAction
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.domain import domain_of
from bot.actions.language import truncation_notice
from bot.actions.privacy import erasure_while_paused
from bot.actions.tracker import channel_of
from bot.privacy.consent import NOTICE_VERSION, record_notice_shown
from bot.storage.db import in_session

logger = logging.getLogger(__name__)


class ValidateSlotMappings(ValidationAction):
    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = await super().run(dispatcher, tracker, domain_of(domain))
        # Rasa runs this even while a counsellor holds the conversation (bot paused):
        # then the bot must stay silent; the notice waits for the hand-back. Only a
        # request to erase the person's data is answered (bot/actions/privacy.py).
        if tracker.is_paused():
            return events + erasure_while_paused(dispatcher, tracker)
        if tracker.get_slot("consent_notice_version") != NOTICE_VERSION:
            # The database, not only the slot, says whether the person has seen it: a
            # rewound turn (fallback) or a lost tracker must not show it again.
            try:
                first_time = await in_session(
                    lambda session: record_notice_shown(
                        session, person_id=tracker.sender_id, channel=channel_of(tracker)
                    )
                )
            except Exception:  # shown anyway when the record fails; logged
                logger.exception("Could not record the consent notice for %s", tracker.sender_id)
                first_time = True
            if first_time:
                dispatcher.utter_message(response="utter_consent_notice")
            events.append(SlotSet("consent_notice_version", NOTICE_VERSION))
        if truncation_notice(tracker):  # a very long message: say that only the start was read
            dispatcher.utter_message(response="utter_message_truncated")
        return events
