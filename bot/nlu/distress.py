"""NLU component: the distress safety net decides the tier of each message.

It runs last, after DIET and the FallbackClassifier, and asks `bot.safety.assess` (the
one place where tiers are decided: lexicon, idioms, the model's confidence in `distress`
against DANGER_CONFIDENCE and CHECK_IN_CONFIDENCE):

- `danger` (a lexicon phrase, or the model's `distress` with a high confidence): the
  intent becomes `distress` whatever DIET or the fallback said (so a plain statement of
  danger is never answered by "I did not understand"), and `action_distress` sends the
  emergency contacts and queues the urgent request;
- `check_in` (a weak lexicon phrase, or the model's `distress` with a lower confidence):
  never the emergency path. The intent DIET chose stays, except `distress` itself, which
  becomes `need_listening` (the listening answer, until the check-in dialogue reads the
  tier); `distress` leaves the ranking;
- no tier: a `distress` DIET was not sure enough about becomes `nlu_fallback` ("can you
  rephrase?").

The assessment goes into the parse data as `safety` (docs/handoff.md): tier, category,
source, phrase (the lexicon entry, never the person's words) and the model's confidence.
Messages without any signal have no `safety` field.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.stateless import StatelessComponent
from bot.safety import DANGER, assess, load_lexicon
from bot.safety.lexicon import DISTRESS_INTENT

SAFETY = "safety"  # the parse data field
CHECK_IN_INTENT = "need_listening"  # a check-in that DIET had read as `distress`
NOT_UNDERSTOOD = "nlu_fallback"


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
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            predicted = (message.get(INTENT) or {}).get("name")
            assessment = assess(message.get(TEXT) or "", ranking)
            if assessment.tier is not None:
                message.set(SAFETY, assessment.as_parse_data(), add_to_output=True)
            others = [entry for entry in ranking if entry.get("name") != DISTRESS_INTENT]
            if assessment.tier == DANGER:
                confidence = 1.0 if assessment.source == "lexicon" else assessment.confidence
                distress = {"name": DISTRESS_INTENT, "confidence": confidence}
                message.set(INTENT, distress, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [distress, *others], add_to_output=True)
                continue
            if predicted != DISTRESS_INTENT and len(others) == len(ranking):
                continue  # nothing to change
            if predicted == DISTRESS_INTENT:
                if assessment.tier is not None:
                    replacement = {
                        "name": CHECK_IN_INTENT,
                        "confidence": assessment.confidence or 0.0,
                    }
                    others = [e for e in others if e.get("name") != CHECK_IN_INTENT]
                    others.insert(0, replacement)
                else:  # DIET's own best guess, and not sure enough of it
                    others = [e for e in others if e.get("name") != NOT_UNDERSTOOD]
                    others.insert(0, {"name": NOT_UNDERSTOOD, "confidence": 1.0})
                message.set(INTENT, others[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, others, add_to_output=True)
        return messages
