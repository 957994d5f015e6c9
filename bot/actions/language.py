"""Keeps the slot `language` on the person's language (custom slot mapping)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.language import LANGUAGES, detect

SCRIPT_NEUTRAL_TARGETS = {"darija"}  # "parle en darija": keep the script the person writes in


def requested_language(tracker: Tracker) -> str | None:
    """The language asked for by a `change_language` message, if it names one."""
    target = next(tracker.get_latest_entity_values("target_language"), None)
    if target in LANGUAGES:
        return target
    if target in SCRIPT_NEUTRAL_TARGETS:
        written_in = detect(tracker.latest_message.get("text") or "").lang
        return "ary" if written_in == "ary" else "ary_latn"
    return None


class ActionDetectLanguage(Action):
    """Follows the language of each message; sticky on short ones, locked by a request.

    Runs as the custom mapping of `language` and `language_locked`, before the next
    action is predicted, so every reply of the turn is already in the right language.
    """

    def name(self) -> str:
        return "action_detect_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        if intent == "change_language":
            target = requested_language(tracker)
            if target:
                return [SlotSet("language", target), SlotSet("language_locked", True)]
        text = message.get("text") or ""
        if tracker.get_slot("language_locked") or text.startswith("/"):
            return []  # a button payload says nothing about the language
        detection = detect(text)
        if detection.is_confident and detection.lang != tracker.get_slot("language"):
            return [SlotSet("language", detection.lang)]
        return []
