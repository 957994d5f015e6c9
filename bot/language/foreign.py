"""Messages clearly written in a language Bousla does not speak (English, Spanish...).

Bousla speaks French and Darija (Arabic or Latin letters). A message in another language
gets a short answer, in French and in Darija, saying so (issue 16, item 8), instead of
"I did not understand" or a French menu the person may not read.

langdetect helps here, and only here: Bousla's own detector (`bot.language.detect`) knows
only its three codes and would call English "French". The decision is cautious, because
French and Arabizi with English words are Bousla's daily bread ("salam bghit job", "je
cherche un job", "ok on commence"), and langdetect alone reads short French or Arabizi as
anything from Dutch to Tagalog (20 French and 15 Arabizi training examples at a 0.9
probability). A message is foreign when all of these hold:

- no Arabic letters (Darija or Arabic: both answered in Darija);
- at least MIN_WORDS Latin words and MIN_LETTERS letters, no Arabizi digit inside a word;
- at least MIN_MARKERS of its words, and MIN_MARKER_SHARE of them, are words of one
  language that French and Darija do not use (MARKERS);
- langdetect gives that same language a probability of at least MIN_PROBABILITY.

On Bousla's 5,500 training examples (French, Arabizi, Arabic script) none is foreign;
tests/test_language_foreign.py holds English, Spanish, Italian and German messages, and
French and Darija ones with English words in them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.language.folding import normalise
from bot.language.ngrams import latin_words

OTHER_LANGUAGE_INTENT = "other_language"  # the intent such a message gets (bot/nlu/foreign.py)

# Words of each language that French and Darija do not use (so "me", "a", "job", "ok",
# "business", "que", "il", "un" are absent): a message is foreign only when enough of its
# words are of this kind *and* langdetect finds the same language.
MARKERS = {
    "en": """i i'm im you your you're the is are am do does can could would will what where
        when how who why my to for and of with this that have has need want looking speak
        english hello hi hey please thanks thank work help find there any some old years
        live name it be get know don't dont not yes from at money training program programs
        young people office located own start we they he she our us""",
    "es": """hola busco trabajo hablas habla espanol quiero necesito tengo anos donde como por
        para el los las una y estoy soy gracias ayuda buenos dias mi yo usted puedo hay empleo
        buenas tardes""",
    "it": """ciao cerco lavoro sono parli italiano voglio grazie buongiorno ho anni per di che
        come dove una mio""",
    "de": """ich suche arbeit bin sprechen sie deutsch hallo danke habe jahre und ist eine nicht
        wo wie mein""",
    "pt": """ola procuro trabalho fala portugues quero obrigado obrigada tenho anos nao sou
        emprego onde voce""",
}
NAMES = {"en": "English", "es": "español", "it": "italiano", "de": "Deutsch", "pt": "português"}
_MARKERS = {lang: frozenset(normalise(words).split()) for lang, words in MARKERS.items()}
MIN_WORDS = 3
MIN_LETTERS = 12
MIN_MARKERS = 2  # words of the language (MARKERS)...
MIN_MARKER_SHARE = 0.4  # ...and this share of the message's words at least
MIN_PROBABILITY = 0.3  # langdetect's probability for the same language

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F]")
_ARABIZI_DIGIT = re.compile(r"[a-z][235789]|[2359][a-z]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _detector():
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0  # the same answer for the same message
    return detect_langs


def foreign_language(text: str) -> str | None:
    """The code of the language `text` is clearly written in when Bousla does not speak
    it ("en", "es"...), else None (French, Darija, too short, or not clear)."""
    text = (text or "")[:1000]
    if not text or text.startswith("/") or _ARABIC.search(text):
        return None
    words = latin_words(normalise(text))
    if len(words) < MIN_WORDS or len(_LETTER.findall(text)) < MIN_LETTERS:
        return None
    if any(_ARABIZI_DIGIT.search(word) for word in words):
        return None
    candidates = []
    for lang, markers in _MARKERS.items():
        found = sum(word in markers for word in words)
        if found >= MIN_MARKERS and found / len(words) >= MIN_MARKER_SHARE:
            candidates.append(lang)
    if not candidates:
        return None  # most messages stop here, without langdetect
    from langdetect import LangDetectException

    try:
        guesses = {guess.lang: guess.prob for guess in _detector()(text)}
    except LangDetectException:
        return None
    for lang in candidates:
        if guesses.get(lang, 0.0) >= MIN_PROBABILITY:
            return lang
    return None
