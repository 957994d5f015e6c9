"""The distress safety net: a deterministic lexicon in French, Darija and Arabizi.

DIET learns the `distress` intent, but a classifier can miss a message written in a way it
has never seen. This lexicon catches the plain statements (suicide, self-harm, violence,
sexual abuse) whatever the spelling, so that they always reach a counsellor at once.
It runs in the Rasa process (`bot.nlu.distress.DistressDetector`) and in the dashboard
(to flag messages in transcripts). The phrases live in `safety_lexicon.yml`.

Words are folded (the lexicon levels of `bot.language.folding`) so that one phrase covers its
usual spellings: for Latin script, accents,
case and repeated letters are folded; for Arabizi, words are reduced to a consonant
skeleton (9=q, 7=h, 3 and 2 dropped, kh/5, ch/sh, gh, vowels dropped); for Arabic
script, harakat, tatweel and letter variants are folded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.language import LANGUAGES
from bot.language.folding import fold

LEXICON_PATH = Path(__file__).resolve().parent / "safety_lexicon.yml"
SCRIPTS = LANGUAGES  # each phrase list is written in one of them

_ARABIC_CHAR = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_TOKEN = re.compile(r"[\w*]+", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """A word of a message under the three normalisations it can be compared with."""

    latin: str  # lower case, no accents, no repeated letters ("" for Arabic words)
    skeleton: str  # Arabizi consonant skeleton ("" for Arabic words)
    arabic: str  # folded Arabic word ("" for Latin words)


@dataclass(frozen=True)
class DistressMatch:
    category: str  # suicide | self_harm | violence | sexual_abuse
    script: str  # fr | ary | ary_latn: the list the phrase comes from
    phrase: str  # the lexicon entry (never the person's words)


@dataclass(frozen=True)
class _Phrase:
    category: str
    script: str
    text: str
    words: tuple[str, ...]  # normalised for its script
    prefix_last: bool  # the last word ends with * in the lexicon

    @property
    def anchor(self) -> str | None:
        """A word that must appear as is (not first, not a prefix): a cheap first filter."""
        last = len(self.words) - 1
        for index, word in enumerate(self.words):
            if index and not (self.prefix_last and index == last):
                return word
        return None


def tokens(text: str) -> list[Token]:
    """The words of `text`, each normalised for every script it may be compared in."""
    text = (text or "").replace("'", " ").replace("’", " ").replace("_", " ")
    result = []
    for word in _TOKEN.findall(text.replace("*", " ")):
        if _ARABIC_CHAR.search(word):
            result.append(Token("", "", fold(word, "lexicon_arabic")))
        else:
            latin, skeleton = fold(word, "lexicon_latin"), fold(word, "lexicon_skeleton")
            if latin:
                result.append(Token(latin, skeleton, ""))
    return result


def _normalise_phrase(script: str, phrase: str) -> tuple[tuple[str, ...], bool]:
    prefix_last = phrase.rstrip().endswith("*")
    words = []
    for token in tokens(phrase):
        word = {"fr": token.latin, "ary_latn": token.skeleton, "ary": token.arabic}[script]
        if word:
            words.append(word)
    return tuple(words), prefix_last


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> tuple[_Phrase, ...]:
    """The phrases of the lexicon file, normalised (read once per path)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    phrases = []
    for category, by_script in data.items():
        for script, entries in (by_script or {}).items():
            if script not in SCRIPTS:
                raise ValueError(f"{path.name}: {category}: unknown script {script!r}")
            for entry in entries or []:
                words, prefix_last = _normalise_phrase(script, str(entry))
                if not words:
                    raise ValueError(f"{path.name}: {category}/{script}: empty phrase {entry!r}")
                phrases.append(_Phrase(category, script, str(entry), words, prefix_last))
    return tuple(phrases)


def _word_of(token: Token, script: str) -> str:
    if script == "fr":
        return token.latin
    if script == "ary_latn":
        return token.skeleton
    return token.arabic


def _word_matches(
    candidate: str, wanted: str, *, first: bool, last_prefix: bool, script: str
) -> bool:
    if not candidate:
        return False
    if candidate == wanted:
        return True
    if last_prefix and candidate.startswith(wanted):
        return True
    # Darija verbs and nouns take prefixes (ka-, ta-, gha-, n-, w-, f-, l-...): the first
    # word of a Darija phrase may end a longer word.
    return first and script != "fr" and len(wanted) >= 3 and candidate.endswith(wanted)


def _phrase_in(phrase: _Phrase, words: list[str]) -> bool:
    size = len(phrase.words)
    for start in range(len(words) - size + 1):
        if all(
            _word_matches(
                words[start + offset],
                wanted,
                first=offset == 0,
                last_prefix=phrase.prefix_last and offset == size - 1,
                script=phrase.script,
            )
            for offset, wanted in enumerate(phrase.words)
        ):
            return True
    return False


def find_distress(text: str, lexicon: tuple[_Phrase, ...] | None = None) -> DistressMatch | None:
    """The first lexicon phrase found in `text`, or None. Button payloads never match."""
    if lexicon is None:
        return _find_in_shipped_lexicon(text)
    return _find(text, lexicon)


@lru_cache(maxsize=8192)
def _find_in_shipped_lexicon(text: str) -> DistressMatch | None:
    # Transcripts show the same messages again and again: remember the answers.
    return _find(text, load_lexicon())


def _find(text: str, lexicon: tuple[_Phrase, ...]) -> DistressMatch | None:
    if not text or text.startswith("/"):
        return None
    message = tokens(text)
    if not message:
        return None
    by_script = {script: [_word_of(token, script) for token in message] for script in SCRIPTS}
    present = {script: set(words) for script, words in by_script.items()}
    for phrase in lexicon:
        anchor = phrase.anchor
        if anchor is not None and anchor not in present[phrase.script]:
            continue
        first_is_whole_word = phrase.script == "fr" and not (
            phrase.prefix_last and len(phrase.words) == 1
        )
        if first_is_whole_word and phrase.words[0] not in present["fr"]:
            continue
        if _phrase_in(phrase, by_script[phrase.script]):
            return DistressMatch(phrase.category, phrase.script, phrase.text)
    return None
