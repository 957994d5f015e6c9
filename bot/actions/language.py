"""The slot `language` on the person's language, and requests to change it.

- `action_detect_language` (custom slot mapping, before every answer): follows the
  language of each message, sticky on short ones ("ok", "1", an emoji), locked once the
  person asked for a language (`change_language`).
- `action_confirm_language` (rule for `change_language`): confirms in the new language,
  or offers the three choices when the message named none ("change de langue").
- `truncation_notice`: whether the last message was too long for NLU to read in full
  (`bot.nlu.normaliser`); `action_validate_slot_mappings` then says so.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.language import LANGUAGES, detect
from bot.language.folding import normalise
from bot.language.ngrams import latin_model
from bot.language.small_words import is_small_word

SCRIPT_NEUTRAL_TARGETS = {"darija"}  # "parle en darija": keep the script the person writes in

# Words of a language name the synonyms did not map ("francais", "l3arbia"...), checked
# in this order: "lettres latines" / "l7rof lfrançais" name a script, not French.
_TARGET_WORDS = (
    ("ary_latn", ("latin", "arabizi", "3arbizi", "عربيزي", "لاتين", "phonet")),
    ("ary_latn", ("7rof lfran", "7rouf lfran", "lettres fran", "حروف الفرنس", "حروف فرانس")),
    ("ary", ("arab", "3arbi", "3rbi", "l3arab", "عرب")),
    ("fr", ("fran", "فرنس", "فرونس", "فرانس")),
    ("darija", ("darij", "دارج", "maghrib", "marocain", "مغربي")),
)


def _target_from_words(value: str) -> str | None:
    folded = normalise(value)
    for target, words in _TARGET_WORDS:
        if any(word in folded for word in words):
            return target
    return None


def requested_language(tracker: Tracker) -> str | None:
    """The language asked for by a `change_language` message, if it names one."""
    value = next(tracker.get_latest_entity_values("target_language"), None)
    if value is None:
        return None
    target = value if value in LANGUAGES or value in SCRIPT_NEUTRAL_TARGETS else None
    target = target or _target_from_words(str(value))
    if target in SCRIPT_NEUTRAL_TARGETS:
        written_in = detect(tracker.latest_message.get("text") or "").lang
        return "ary" if written_in == "ary" else "ary_latn"
    return target


latin_model()  # built when the action server starts, not on the first message


def truncation_notice(tracker: Tracker) -> bool:
    """True when NLU read only the beginning of the last message (it is kept whole)."""
    return bool((tracker.latest_message or {}).get("text_truncated"))


LATIN_SCRIPT = {"fr", "ary_latn"}


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
        current = tracker.get_slot("language")
        if is_small_word(text) and {detection.lang, current} <= LATIN_SCRIPT:
            return []  # "ok merci" from an Arabizi writer: Darija speakers say merci too
        if detection.is_confident and detection.lang != current:
            return [SlotSet("language", detection.lang)]
        return []


class ActionConfirmLanguage(Action):
    """The answer to `change_language`: confirmation, or the choice of languages."""

    def name(self) -> str:
        return "action_confirm_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if requested_language(tracker):
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_choose_language")
        return []
