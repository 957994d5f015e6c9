"""NLU component: a message that matches the distress lexicon gets the intent `distress`.

It runs after DIET and the FallbackClassifier, so it also overrides `nlu_fallback`:
a plain statement of danger is never answered by "I did not understand". The match
(category and lexicon entry, never the person's words) is added to the parse data as
`safety`, for the action that queues the urgent handoff.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.stateless import StatelessComponent
from bot.safety import find_distress, load_lexicon

DISTRESS_INTENT = "distress"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DistressDetector(StatelessComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        load_lexicon()  # fail at model load, not on the first message, if the file is broken

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            match = find_distress(message.get(TEXT) or "")
            predicted = (message.get(INTENT) or {}).get("name")
            if match is None:
                if predicted == DISTRESS_INTENT:
                    message.set("safety", {"source": "model"}, add_to_output=True)
                continue
            message.set(
                "safety",
                {"source": "lexicon", "category": match.category, "phrase": match.phrase},
                add_to_output=True,
            )
            if predicted == DISTRESS_INTENT:
                continue
            distress = {"name": DISTRESS_INTENT, "confidence": 1.0}
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != DISTRESS_INTENT
            ]
            message.set(INTENT, distress, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [distress, *ranking], add_to_output=True)
        return messages
