"""First stage of the two-stage fallback: "did you mean ...?" with Yes/No buttons."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

# Intents that have an `utter_did_you_mean_<intent>` response in domain.yml.
INTENTS_WITH_QUESTION = (
    "seek_job",
    "seek_training",
    "start_project",
    "seek_financing",
    "ask_human",
    "ask_center_info",
    "need_listening",
    "main_menu",
)


def best_guess(tracker: Tracker) -> str | None:
    """The most likely intent of the last message that we can ask about."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    for candidate in ranking:
        if candidate.get("name") in INTENTS_WITH_QUESTION:
            return candidate["name"]
    return None


class ActionDefaultAskAffirmation(Action):
    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        guess = best_guess(tracker)
        if guess:
            dispatcher.utter_message(response=f"utter_did_you_mean_{guess}")
        else:
            dispatcher.utter_message(response="utter_ask_rephrase")
        return []
