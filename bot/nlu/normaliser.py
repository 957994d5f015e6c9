"""NLU components: the model reads normalised text, everyone else the person's own words.

`TextNormaliser` (first in the pipeline, before the tokenizer) replaces the text that
NLU reads by `bot.language.folding.normalise(text)` (harakat, alef variants, Arabic
digits and punctuation, case, accents, emphasis letters), cut to MAX_NLU_CHARS
characters. In training it does the same to every example, moves the character offsets
of the annotated entities to the normalised text, and adds the normalised spellings of
the lookup tables and of the entity synonyms.

`OriginalText` (after the EntitySynonymMapper) puts the original text back, with the
entities' offsets (and values not mapped to a synonym) in the original text; a message
with nothing to read (empty, spaces) is `nlu_fallback` ("can you rephrase?"). Rasa builds
the parse data from the message's text, and `tracker.latest_message["text"]` in the
actions is that parse data: without this step the actions, the distress lexicon and the
transcript would see "salam" instead of "Salaaam". (`UserUttered.text` is always
the channel's text: Rasa sets it from the UserMessage, not from NLU.)

A message longer than MAX_NLU_CHARS is read up to there (cut between words) and gets
`text_truncated: {"length": ..., "read": ...}` in its parse data: the person is told
(`utter_message_truncated`, see `bot.actions.language.truncation_notice`). The whole
message stays in the tracker and the transcript.
"""

from __future__ import annotations

import logging

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.folding import Normalised, normalise, normalise_with_spans
from bot.nlu.stateless import StatelessComponent

logger = logging.getLogger(__name__)

MAX_NLU_CHARS = 1000
TRUNCATED = "text_truncated"  # in the parse data of a message NLU read only in part
_ORIGINAL = "bousla_original"  # the original text and the spans (not in the parse data)


def nlu_view(text: str) -> tuple[str, bool]:
    """The part of `text` NLU reads (at most MAX_NLU_CHARS, cut between words)."""
    if len(text) <= MAX_NLU_CHARS:
        return text, False
    cut = text.rfind(" ", MAX_NLU_CHARS // 2, MAX_NLU_CHARS + 1)
    return text[: cut if cut > 0 else MAX_NLU_CHARS], True


def _is_payload(text: str) -> bool:
    return text.startswith("/")  # a button's /intent{...}: read by Rasa as it is


# Emoji that mean one thing on their own (skin tones and variation selectors ignored).
EMOJI_INTENTS = {
    "affirm": "👍👌✅🆗🙆",
    "deny": "👎❌🙅🚫",
    "greet": "👋",
    "thank": "🙏",
}


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def emoji_intent(text: str) -> str | None:
    """The intent of a message made only of emoji that all say the same thing, if any."""
    symbols = {ch for ch in text if not ch.isspace() and not 0x1F3FB <= ord(ch) <= 0x1F3FF}
    symbols -= {"\ufe0f", "\u200d"}
    for intent, emoji in EMOJI_INTENTS.items():
        if symbols and symbols <= set(emoji):
            return intent
    return None


def normalise_example(message: Message) -> None:
    """Normalise a training example's text; its entities keep covering the same words."""
    text = message.get(TEXT)
    if not isinstance(text, str) or not text or _is_payload(text):
        return
    normalised = normalise_with_spans(text)
    if normalised.text == text:
        return
    entities = []
    for entity in message.get(ENTITIES) or []:
        entity = dict(entity)
        if "start" in entity and "end" in entity:
            surface = text[entity["start"] : entity["end"]]
            start, end = normalised.to_normalised(entity["start"], entity["end"])
            # An annotation without its own value took the words as value: keep them equal,
            # so no synonym "salam" -> "Salam" is learnt from the change of case.
            if entity.get("value") == surface:
                entity["value"] = normalised.text[start:end]
            entity["start"], entity["end"] = start, end
        entities.append(entity)
    message.set(TEXT, normalised.text)
    if entities:
        message.set(ENTITIES, entities)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormaliser(StatelessComponent):
    """Normalises the text NLU reads (see the module docstring)."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            normalise_example(example)
        for table in training_data.lookup_tables:
            elements = table.get("elements")
            if isinstance(elements, list):
                table["elements"] = list(dict.fromkeys(normalise(str(e)) for e in elements))
        for surface, value in list(training_data.entity_synonyms.items()):
            training_data.entity_synonyms.setdefault(normalise(surface), value)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or _is_payload(text):
                continue
            read, truncated = nlu_view(text)
            normalised = normalise_with_spans(read)
            if truncated:
                message.set(TRUNCATED, {"length": len(text), "read": len(read)}, True)
            if normalised.text == text:
                continue
            message.set(_ORIGINAL, {"text": text, "spans": normalised.spans})
            message.set(TEXT, normalised.text)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class OriginalText(StatelessComponent):
    """Puts the person's own text back after NLU (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [TextNormaliser]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and not _is_payload(text) and not _has_words(text):
                # Nothing to read (empty, spaces, emoji only): the few emoji that say yes,
                # no, hello or thanks, else not understood ("can you rephrase?"), rather
                # than what the model guesses from no features (it was `affirm`, which the
                # consent question would have read as a yes).
                intent = {"name": emoji_intent(text) or "nlu_fallback", "confidence": 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
                original = message.get(_ORIGINAL)
                if original:
                    message.set(TEXT, original["text"])
                continue
            original = message.get(_ORIGINAL)
            if not original:
                continue
            normalised = Normalised(
                message.get(TEXT), original["text"], tuple(tuple(s) for s in original["spans"])
            )
            entities = []
            for entity in message.get(ENTITIES) or []:
                entity = dict(entity)
                if isinstance(entity.get("start"), int) and isinstance(entity.get("end"), int):
                    surface = normalised.text[entity["start"] : entity["end"]]
                    start, end = normalised.to_original(entity["start"], entity["end"])
                    if entity.get("value") == surface:  # not mapped to a synonym
                        entity["value"] = normalised.original[start:end]
                    entity["start"], entity["end"] = start, end
                entities.append(entity)
            message.set(TEXT, normalised.original)
            if entities:
                message.set(ENTITIES, entities, add_to_output=True)
        return messages
