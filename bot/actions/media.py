"""Voice notes, photos, documents and stickers: the bot cannot read them, so it says so.

The channels pass them to Rasa as `/media_received{"media_kind": "<kind>"}` and keep the
media reference on the inbox row, where counsellors see it in the transcript.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

AUDIO_KINDS = frozenset({"voice", "audio"})


class ActionAcknowledgeMedia(Action):
    """ "I can't listen to voice notes, please write" (or the same for pictures and files)."""

    def name(self) -> str:
        return "action_acknowledge_media"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        kind = next(tracker.get_latest_entity_values("media_kind"), None)
        # A person asking "did you listen to my voice note?" has sent one, too.
        text = (tracker.latest_message or {}).get("text") or ""
        if kind in AUDIO_KINDS or (kind is None and _mentions_audio(text)):
            dispatcher.utter_message(response="utter_media_voice")
        else:
            dispatcher.utter_message(response="utter_media_received")
        return []


AUDIO_WORDS = ("vocal", "vocaux", "audio", "voice", "أوديو", "اوديو", "فوكال", "صوت", "vocale")


def _mentions_audio(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in AUDIO_WORDS)
