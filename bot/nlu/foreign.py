"""NLU component: a message clearly in a language Bousla does not speak is `other_language`.

After DIET and the FallbackClassifier, before the distress safety net (which keeps the
last word: danger written in English still reaches a counsellor). When
`bot.language.foreign.foreign_language` names a language (English, Spanish...), the
intent becomes `other_language` and the parse data carries `foreign_language` (its
code); `utter_other_language` then says, in French and in Darija, what Bousla speaks.
Everything else is left as DIET said it.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.foreign import OTHER_LANGUAGE_INTENT, foreign_language
from bot.nlu.stateless import StatelessComponent

FOREIGN_LANGUAGE = "foreign_language"  # the parse data field


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ForeignLanguageDetector(StatelessComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            code = foreign_language(message.get(TEXT) or "")
            if code is None:
                continue
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            others = [e for e in ranking if e.get("name") != OTHER_LANGUAGE_INTENT]
            intent = {"name": OTHER_LANGUAGE_INTENT, "confidence": 1.0}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *others], add_to_output=True)
            message.set(FOREIGN_LANGUAGE, code, add_to_output=True)
        return messages
