"""Messages in a language Bousla does not speak (issue 16, item 8): bot.language.foreign
and the NLU component that turns them into `other_language`."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.foreign import foreign_language
from bot.language.ngrams import training_examples
from bot.nlu.foreign import FOREIGN_LANGUAGE, ForeignLanguageDetector


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Hello, I'm looking for a job, do you speak English?", "en"),
        ("hi, can you help me find a training?", "en"),
        ("Do you speak english", "en"),
        ("I want to start my own business", "en"),
        ("where is your office located?", "en"),
        ("I am 22 years old and I live in Ain Harrouda", "en"),
        ("my name is Sarah and I need a job", "en"),
        ("can we talk in english please", "en"),
        ("Hola, busco trabajo en Mohammedia", "es"),
        ("Ciao, cerco lavoro", "it"),
        ("Ich suche Arbeit", "de"),
    ],
)
def test_a_message_clearly_in_another_language(text, lang):
    assert foreign_language(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        # French and Darija with English words, and what langdetect alone gets wrong
        "je cherche un job",
        "ok on commence",
        "salam bghit job f call center",
        "bghit ndir business plan",
        "bghit formation professionnelle",
        "MERCI BEAUCOUP BOUSLA",
        "non pas encore",
        "jcherche un taf",
        "wach nta ordinateur",
        "ana mn ain harrouda",
        "Hi bghit nkhdem",
        "hello je cherche une formation",
        "I need help بغيت نخدم",
        # too short to tell
        "hello",
        "ok thank you",
        "is this a bot?",
        "/greet",
        "",
    ],
)
def test_french_darija_and_short_messages_are_not_foreign(text):
    assert foreign_language(text) is None


def test_no_training_example_is_foreign():
    for lang, texts in training_examples().items():
        foreign = [text for text in texts if foreign_language(text)]
        assert foreign == [], lang


def parsed(text: str, intent: str) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.6})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": 0.6}])
    return message


def test_the_component_sets_other_language_and_leaves_the_rest():
    detector = ForeignLanguageDetector({})
    english, french = (
        parsed("do you speak english?", "bot_challenge"),
        parsed("tu parles anglais ?", "bot_challenge"),
    )
    detector.process([english, french])
    assert english.get(INTENT) == {"name": "other_language", "confidence": 1.0}
    assert english.get(INTENT_RANKING_KEY)[1]["name"] == "bot_challenge"
    assert english.get(FOREIGN_LANGUAGE) == "en"
    assert french.get(INTENT)["name"] == "bot_challenge"
    assert french.get(FOREIGN_LANGUAGE) is None
