"""Features shared by the two ways of writing Darija (issue 16, item 10).

The same Darija message comes in Arabic letters ("بغيت خدمة") or in Latin letters
("bghit khdma"), and the words of one script share no character with the other: an
example written in one script teaches the model nothing about the other. This featurizer
is a CountVectorsFeaturizer that reads each word as its consonant skeleton
(`fold(word, "script_skeleton")`, bot/language/folding.py: "بغيت" and "bghit" are both
"bgt", "خدمة" and "khdma" both "xdm"), so both scripts give the same features, next to the
features of the words as they are written.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import ACTION_NAME, INTENT, INTENT_RESPONSE_KEY, TEXT

from bot.language.folding import fold


def skeleton_tokens(tokens: list[str]) -> list[str]:
    """Each token as its script skeleton (a token with no skeleton left stays as it is)."""
    return [fold(token, "script_skeleton") or token for token in tokens]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SharedScriptFeaturizer(CountVectorsFeaturizer):
    """Count vectors (any CountVectorsFeaturizer setting) of the words' script skeletons."""

    def _process_tokens(self, tokens: list[str], attribute: str = TEXT) -> list[str]:
        if attribute in (INTENT, ACTION_NAME, INTENT_RESPONSE_KEY):
            return tokens
        return super()._process_tokens(skeleton_tokens(tokens), attribute)
