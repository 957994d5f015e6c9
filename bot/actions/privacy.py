"""Erasure on request (law 09-08): "supprime mes données" -> a yes/no question -> on yes,
the confirmation, and everything about the person is erased at the end of that turn.

The action server only talks: it cannot erase the tracker, which Rasa writes after the
actions of the turn have run. `action_delete_my_data` sets the slot `erasure_confirmed`,
and Bousla's tracker store then erases instead of saving (bot/storage/rasa_stores.py,
bot/privacy/erasure.py). The question is a response (`utter_ask_delete_my_data`), asked by the
rules in bot/data/rules.yml (and orientation.yml, during the profile form).

While a counsellor holds the conversation (Rasa's pause), Rasa predicts no action at all;
`action_validate_slot_mappings`, which Rasa runs on every message even then, asks and
answers through `erasure_while_paused`, so a handoff never blocks an erasure.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.privacy.erasure import ERASURE_SLOT

QUESTION = "utter_ask_delete_my_data"
DONE = "utter_delete_my_data_done"
KEPT = "utter_delete_my_data_kept"
REQUEST_INTENT = "delete_my_data"


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def last_bot_response(tracker: Tracker) -> str | None:
    """The response the bot sent last before the person's latest message, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and kind == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def answer_to_question(tracker: Tracker) -> str | None:
    """ "yes" or "no" when the latest message answers the erasure question, else None."""
    if last_bot_response(tracker) != QUESTION:
        return None
    return {"affirm": "yes", "deny": "no"}.get(latest_intent(tracker) or "")


class ActionDeleteMyData(Action):
    """Yes to the erasure question: the confirmation, and the erasure at the end of the turn."""

    def name(self) -> str:
        return "action_delete_my_data"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if answer_to_question(tracker) != "yes":
            # Predicted without a yes to the question just before: ask, never erase.
            dispatcher.utter_message(response=QUESTION)
            return []
        dispatcher.utter_message(response=DONE)
        return [SlotSet(ERASURE_SLOT, True)]


def erasure_while_paused(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict]:
    """The erasure dialogue while the bot is paused (a counsellor holds the conversation).

    Asks the question on a request, confirms and erases on yes, says nothing is erased on
    no; the bot stays paused for everything else, and the counsellor keeps the
    conversation unless it is erased.
    """
    if latest_intent(tracker) == REQUEST_INTENT:
        dispatcher.utter_message(response=QUESTION)
        return []
    answer = answer_to_question(tracker)
    if answer == "yes":
        dispatcher.utter_message(response=DONE)
        return [SlotSet(ERASURE_SLOT, True)]
    if answer == "no":
        dispatcher.utter_message(response=KEPT)
    return []
