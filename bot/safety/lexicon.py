"""The distress safety net: a deterministic lexicon in French, Darija and Arabizi, and the
one place where the tier of a message is decided (`assess`).

DIET learns the `distress` intent, but a classifier can miss a message written in a way it
has never seen. This lexicon catches the plain statements (suicide, self-harm, sexual
abuse, violence at home or outside) whatever the spelling, so that they always reach a
counsellor at once. It runs in the Rasa process (`bot.nlu.distress.DistressDetector`) and
in the dashboard (to flag messages in transcripts). The phrases live in
`safety_lexicon.yml`, which also lists idioms and hyperbole ("mat b d7k", "je meurs de
faim", "9telni had lmatch") whose words never count as distress, and the words that tell
violence at home from violence outside.

Words are folded (the lexicon levels of `bot.language.folding`) so that one phrase covers its
usual spellings: for Latin script, accents,
case and repeated letters are folded; for Arabizi, words are reduced to a consonant
skeleton (9=q, 7=h, 3 and 2 dropped, kh/5, ch/sh, gh, vowels dropped); for Arabic
script, harakat, tatweel and letter variants are folded.

Two tiers (`assess`): `danger` (a lexicon phrase, or the model's `distress` with a high
confidence) sends the emergency contacts and an urgent request; `check_in` (a weak
lexicon phrase, or the model's `distress` with a lower confidence) is a gentle question
to the person, with no police numbers. The thresholds are DANGER_CONFIDENCE and
CHECK_IN_CONFIDENCE below (chosen on tests/data/safety_dev.tsv, docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.language import LANGUAGES
from bot.language.folding import fold

LEXICON_PATH = Path(__file__).resolve().parent / "safety_lexicon.yml"
SCRIPTS = LANGUAGES
CATEGORIES = ("suicide", "self_harm", "sexual_abuse", "violence_home", "violence_outside")
VIOLENCE = ("violence_home", "violence_outside")
DANGER = "danger"
CHECK_IN = "check_in"
DISTRESS_INTENT = "distress"

# The model's confidence in `distress` (DIET, before any override) that makes a message
# `danger` on its own, and the lower one that makes it a `check_in`. Chosen on the dev
# set (tests/data/safety_dev.tsv) and the training data, never on the evaluation set.
DANGER_CONFIDENCE = 0.99
CHECK_IN_CONFIDENCE = 0.80

_ARABIC_CHAR = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_HARAKAT = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # short vowels, shadda, tatweel
_TOKEN = re.compile(r"[\w*]+", re.UNICODE)

# The prefixes a Darija word may carry before the FIRST word of a phrase (present and
# future markers, person, "and", "in", "with", the article...), as they read after
# folding: Arabizi on its consonant skeleton (ka, kan, ta, gha, ghan, n, t, f, b, l, ma,
# w...), Arabic folded. Any other beginning is another word ("محلبة" is not "حلب").
_LATIN_PREFIXES = frozenset(
    w + p
    for w in ("", "w")
    for p in ("", "k", "kn", "kt", "t", "tn", "tt", "ɣ", "ɣn", "ɣt", "n", "f", "b", "l", "m")
    + ("fl", "bl", "ml", "kl")
) - {""}
_ARABIC_PREFIXES = frozenset(
    w + p
    for w in ("", "و")
    for p in ("", "ك", "كن", "كت", "كي", "ت", "تن", "تت", "تي", "ن", "ي", "ف", "ب", "ل", "ما")
    + ("غا", "غان", "غات", "غاي", "ال", "فال", "بال", "لل", "كال", "مال")
) - {""}
_LONGEST_PREFIX = max(len(p) for p in _LATIN_PREFIXES | _ARABIC_PREFIXES)
MAX_GAP = 3  # "..." in a phrase: up to this many words in between
# An Arabizi word of a phrase is compared on its spelling, not its skeleton, when its
# skeleton is shorter than this: SHORT_SKELETON_ALONE for a one-word phrase,
# SHORT_SKELETON_FIRST for the first word of a longer one ("hdded" is "hd", like "had"),
# SHORT_SKELETON for the others ("fiya" is "f", like "f").
SHORT_SKELETON = 2
SHORT_SKELETON_FIRST = 3
SHORT_SKELETON_ALONE = 4


@dataclass(frozen=True)
class Token:
    """A word of a message under the three normalisations it can be compared with."""

    latin: str  # lower case, no accents, no repeated letters ("" for Arabic words)
    skeleton: str  # Arabizi consonant skeleton ("" for Arabic words)
    arabic: str  # folded Arabic word ("" for Latin words)


@dataclass(frozen=True)
class DistressMatch:
    category: str  # suicide | self_harm | sexual_abuse | violence_home | violence_outside
    script: str  # fr | ary | ary_latn: the list the phrase comes from
    phrase: str  # the lexicon entry (never the person's words)
    tier: str = DANGER  # danger | check_in (an entry of a category's `check_in` lists)


@dataclass(frozen=True)
class Assessment:
    """What the safety net makes of one message (`assess`)."""

    tier: str | None  # danger | check_in | None
    category: str | None = None  # one of CATEGORIES, None when only the model spoke
    source: str | None = None  # lexicon | model
    phrase: str | None = None  # the lexicon entry (never the person's words)
    confidence: float | None = None  # the model's confidence in `distress`, when known

    def as_parse_data(self) -> dict[str, Any]:
        """The `safety` field of the parse data (see docs/handoff.md)."""
        return {
            "tier": self.tier,
            "category": self.category,
            "source": self.source,
            "phrase": self.phrase,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
        }


@dataclass(frozen=True)
class _Word:
    alternatives: tuple[str, ...]  # normalised for the phrase's script
    prefix: bool  # written with a trailing *: any ending
    # Arabizi words whose skeleton is too short to tell them apart ("fiya" is "f", like
    # "f"; "tb3ni" is "tbn", like "tbe3an"): compared on their folded spelling instead.
    spelled: tuple[str, ...] = ()


_GAP = None  # "..." in a phrase


@dataclass(frozen=True)
class _Phrase:
    category: str  # a category, or "idiom", or a place ("home", "outside")
    script: str
    text: str
    words: tuple[_Word | None, ...]
    tier: str = DANGER
    # `a + b + c`: b and c must also be found somewhere in the message (any order, any
    # distance): a farewell is "je m'en vais" AND "cette nuit" AND "merci pour tout".
    also: tuple[_Phrase, ...] = ()

    @cached_property
    def anchor(self) -> tuple[frozenset[str], bool] | None:
        """Words one of which must appear, and whether it may carry a Darija prefix (the
        first word of a Darija phrase): a cheap first filter (None: no filter)."""
        for index, word in enumerate(self.words):
            if word is _GAP or word.prefix:
                continue
            return frozenset(word.alternatives + word.spelled), index == 0 and self.script != "fr"
        return None


@dataclass(frozen=True)
class Lexicon:
    """The distress phrases (danger first, then check_in), idioms and place words."""

    phrases: tuple[_Phrase, ...]
    idioms: tuple[_Phrase, ...] = ()
    places: tuple[_Phrase, ...] = field(default=())  # category "home" or "outside"

    def __iter__(self) -> Iterator[_Phrase]:
        return iter(self.phrases)

    def __len__(self) -> int:
        return len(self.phrases)

    @cached_property
    def phrase_index(self) -> _Index:
        return _Index(self.phrases)

    @cached_property
    def idiom_index(self) -> _Index:
        return _Index(self.idioms)


class _Index:
    """Which phrases a message may hold, from its words: a message is compared with the
    few phrases whose anchor word it has, not with the whole lexicon (a thousand phrases,
    on every message a person writes)."""

    def __init__(self, phrases: Sequence[_Phrase]) -> None:
        self.phrases = tuple(phrases)
        self.by_word: dict[tuple[str, bool, str], list[int]] = {}
        unanchored = []
        for number, phrase in enumerate(self.phrases):
            if phrase.anchor is None:
                unanchored.append(number)
                continue
            words, prefixed = phrase.anchor
            for word in words:
                self.by_word.setdefault((phrase.script, prefixed, word), []).append(number)
        self.unanchored = tuple(unanchored)

    def candidates(self, message: _Message) -> Iterator[_Phrase]:
        """The phrases `message` may hold, in the lexicon's order."""
        numbers = set(self.unanchored)
        for script in SCRIPTS:
            for word in message.present[script]:
                numbers.update(self.by_word.get((script, False, word), ()))
            if script == "fr":
                continue  # no prefixes: French anchors are all in `present`
            for word in message.unprefixed(script):
                numbers.update(self.by_word.get((script, True, word), ()))
        return (self.phrases[number] for number in sorted(numbers))


def _fold_latin(word: str) -> str:
    return fold(word, "lexicon_latin")


def _skeleton(word: str) -> str:
    return fold(word, "lexicon_skeleton")


def _fold_arabic(word: str) -> str:
    return fold(word, "lexicon_arabic")


def tokens(text: str) -> list[Token]:
    """The words of `text`, each normalised for every script it may be compared in."""
    text = (text or "").replace("'", " ").replace("’", " ").replace("_", " ")
    text = _HARAKAT.sub("", text)  # a shadda or a short vowel does not cut a word in two
    result = []
    for word in _TOKEN.findall(text.replace("*", " ")):
        if _ARABIC_CHAR.search(word):
            result.append(Token("", "", _fold_arabic(word)))
        else:
            latin, skeleton = _fold_latin(word), _skeleton(word)
            if latin:
                result.append(Token(latin, skeleton, ""))
    return result


def _normalise_word(script: str, word: str) -> Token | None:
    """One word of a lexicon phrase, normalised as message words are."""
    found = tokens(word)
    if len(found) != 1 or not _word_of(found[0], script):
        return None
    return found[0]


def _parse_phrase(category: str, script: str, text: str, tier: str, where: str) -> _Phrase:
    """A lexicon entry: words in order; `a|b` alternatives; a trailing * any ending;
    `...` up to MAX_GAP words in between; `=word` (Arabizi): compared on its spelling;
    ` + `: the parts after it must also be in the message, anywhere."""
    if " + " in text:
        first, *others = (part.strip() for part in text.split(" + "))
        if not first or not all(others):
            raise ValueError(f"{where}: empty part in {text!r}")
        main = _parse_phrase(category, script, first, tier, where)
        also = tuple(_parse_phrase(category, script, part, tier, where) for part in others)
        return _Phrase(category, script, text, main.words, tier, also)
    raw_words = text.replace("'", " ").replace("’", " ").split()
    words: list[_Word | None] = []
    for index, raw in enumerate(raw_words):
        shortest = SHORT_SKELETON
        if index == 0:
            shortest = SHORT_SKELETON_ALONE if len(raw_words) == 1 else SHORT_SKELETON_FIRST
        if raw == "...":
            words.append(_GAP)
            continue
        alternatives, spelled, prefix = [], [], False
        for alternative in raw.split("|"):
            prefix = prefix or alternative.endswith("*")
            as_spelled = alternative.startswith("=")
            token = _normalise_word(script, alternative.strip("=*"))
            if token is None:
                raise ValueError(f"{where}: {text!r}: {alternative!r} is not one word")
            if script == "ary_latn" and (as_spelled or len(token.skeleton) < shortest):
                spelled.append(token.latin)
            else:
                alternatives.append(_word_of(token, script))
        words.append(
            _Word(tuple(dict.fromkeys(alternatives)), prefix, tuple(dict.fromkeys(spelled)))
        )
    if not words or words[0] is _GAP or words[-1] is _GAP:
        raise ValueError(f"{where}: empty phrase or phrase starting or ending with ... {text!r}")
    return _Phrase(category, script, text, tuple(words), tier)


def _by_script(section: Any, where: str) -> Iterator[tuple[str, str]]:
    if section is None:
        return
    if not isinstance(section, dict):
        raise ValueError(f"{where}: expected scripts ({', '.join(SCRIPTS)})")
    for script, entries in section.items():
        if script not in SCRIPTS:
            raise ValueError(f"{where}: unknown script {script!r}")
        for entry in entries or []:
            yield script, str(entry)


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The phrases of the lexicon file, normalised (read once per path)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    danger, check_in, idioms, places = [], [], [], []
    for key, section in data.items():
        where = f"{path.name}: {key}"
        if key == "idioms":
            for script, entry in _by_script(section, where):
                idioms.append(_parse_phrase("idiom", script, entry, DANGER, where))
        elif key == "places":
            for place, by_script in (section or {}).items():
                if place not in ("home", "outside"):
                    raise ValueError(f"{where}: unknown place {place!r} (home, outside)")
                for script, entry in _by_script(by_script, f"{where}/{place}"):
                    places.append(_parse_phrase(place, script, entry, DANGER, where))
        elif key in CATEGORIES:
            section = dict(section or {})
            weak = section.pop("check_in", None)
            for script, entry in _by_script(section, where):
                danger.append(_parse_phrase(key, script, entry, DANGER, where))
            for script, entry in _by_script(weak, f"{where}/check_in"):
                check_in.append(_parse_phrase(key, script, entry, CHECK_IN, where))
        else:
            raise ValueError(f"{where}: unknown section (categories: {', '.join(CATEGORIES)})")
    return Lexicon(tuple(danger + check_in), tuple(idioms), tuple(places))


def _word_of(token: Token, script: str) -> str:
    if script == "fr":
        return token.latin
    if script == "ary_latn":
        return token.skeleton
    return token.arabic


def _word_matches(candidate: str, spelling: str, word: _Word, *, first: bool, script: str) -> bool:
    if not candidate:
        return False
    for wanted in word.spelled:
        if spelling == wanted or (word.prefix and spelling.startswith(wanted)):
            return True
    for wanted in word.alternatives:
        if candidate == wanted or (word.prefix and candidate.startswith(wanted)):
            return True
        # Darija verbs and nouns take prefixes (ka-, ta-, gha-, n-, w-, f-, l-...): the
        # first word of a Darija phrase may follow one of them, and only them.
        if first and script != "fr" and len(wanted) >= 3:
            prefixes = _ARABIC_PREFIXES if script == "ary" else _LATIN_PREFIXES
            for cut in range(1, min(_LONGEST_PREFIX, len(candidate) - len(wanted)) + 1):
                rest = candidate[cut:]
                if (rest == wanted or (word.prefix and rest.startswith(wanted))) and candidate[
                    :cut
                ] in prefixes:
                    return True
    return False


def _spans(
    phrase: _Phrase, words: Sequence[str], spellings: Sequence[str]
) -> Iterator[tuple[int, int]]:
    """Where `phrase` is found in `words` (normalised for its script; `spellings`: the
    same words folded as Latin), as (first word, last word + 1)."""
    elements = phrase.words

    def walk(element: int, position: int) -> Iterator[int]:
        if element == len(elements):
            yield position
            return
        word = elements[element]
        if word is _GAP:
            for skip in range(MAX_GAP + 1):
                if position + skip > len(words):
                    break
                yield from walk(element + 1, position + skip)
            return
        if position < len(words) and _word_matches(
            words[position], spellings[position], word, first=element == 0, script=phrase.script
        ):
            yield from walk(element + 1, position + 1)

    for start in range(len(words)):
        for end in walk(0, start):
            yield start, end


class _Message:
    """A message's words in the three normalisations, with cheap look-ups."""

    def __init__(self, text: str) -> None:
        message = tokens(text)
        self.size = len(message)
        self.words = {script: [_word_of(t, script) for t in message] for script in SCRIPTS}
        self.present = {script: set(words) for script, words in self.words.items()}
        self.present["ary_latn"] |= self.present["fr"]  # spelled words (see _Word)
        self._unprefixed: dict[str, set[str]] = {}

    def unprefixed(self, script: str) -> set[str]:
        """The words as they are, and without each Darija prefix they may carry."""
        if script not in self._unprefixed:
            prefixes = _ARABIC_PREFIXES if script == "ary" else _LATIN_PREFIXES
            words = set(self.present[script])
            if script != "fr":
                for word in self.present[script]:
                    for cut in range(1, min(_LONGEST_PREFIX, len(word) - 1) + 1):
                        if word[:cut] in prefixes:
                            words.add(word[cut:])
            self._unprefixed[script] = words
        return self._unprefixed[script]

    def spans(self, phrase: _Phrase) -> Iterator[tuple[int, int]]:
        anchor = phrase.anchor
        if anchor is not None:
            words, prefixed = anchor
            present = self.unprefixed(phrase.script) if prefixed else self.present[phrase.script]
            if words.isdisjoint(present):
                return iter(())
        if any(next(self.spans(part), None) is None for part in phrase.also):
            return iter(())
        return _spans(phrase, self.words[phrase.script], self.words["fr"])


def _overlaps(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def find_distress(text: str, lexicon: Lexicon | None = None) -> DistressMatch | None:
    """The first lexicon phrase found in `text` (a danger one before a check_in one), or
    None. Words inside an idiom ("mat b d7k", "je meurs de faim") do not count. Button
    payloads never match."""
    return _scan(text, lexicon)[0]


def _scan(text: str, lexicon: Lexicon | None = None) -> tuple[DistressMatch | None, bool]:
    """The first lexicon phrase found in `text` (or None), and whether it has an idiom."""
    if lexicon is None:
        return _scan_with_shipped_lexicon(text)
    return _find(text, lexicon)


@lru_cache(maxsize=8192)
def _scan_with_shipped_lexicon(text: str) -> tuple[DistressMatch | None, bool]:
    # Transcripts show the same messages again and again: remember the answers.
    return _find(text, load_lexicon())


def _find(text: str, lexicon: Lexicon) -> tuple[DistressMatch | None, bool]:
    if not text or text.startswith("/"):
        return None, False
    message = _Message(text)
    if not message.size:
        return None, False
    idioms = [
        span for idiom in lexicon.idiom_index.candidates(message) for span in message.spans(idiom)
    ]
    for phrase in lexicon.phrase_index.candidates(message):
        for span in message.spans(phrase):
            if _overlaps(span, idioms):
                continue
            category = phrase.category
            if category in VIOLENCE:
                category = _violence_place(message, span, lexicon, default=category)
            return DistressMatch(category, phrase.script, phrase.text, phrase.tier), bool(idioms)
    return None, bool(idioms)


def _violence_place(
    message: _Message, span: tuple[int, int], lexicon: Lexicon, default: str
) -> str:
    """violence_home or violence_outside: the place word nearest to the match decides
    ("baba kayderbni" at home, "lboulis drbouni" outside); none, or a tie: `default`."""
    nearest: dict[str, int] = {}
    for place in lexicon.places:
        for start, end in message.spans(place):
            distance = max(start - span[1] + 1, span[0] - end + 1, 0)
            nearest[place.category] = min(nearest.get(place.category, distance), distance)
    home, outside = nearest.get("home"), nearest.get("outside")
    if home is not None and (outside is None or home < outside):
        return "violence_home"
    if outside is not None and (home is None or outside < home):
        return "violence_outside"
    return default


def distress_confidence(intent_ranking: Sequence[dict[str, Any]] | None) -> float | None:
    """The model's confidence in `distress` in an intent ranking (None: not ranked)."""
    scores = [
        float(entry.get("confidence") or 0.0)
        for entry in intent_ranking or []
        if entry.get("name") == DISTRESS_INTENT
    ]
    return max(scores) if scores else None


def assess(
    text: str,
    intent_ranking: Sequence[dict[str, Any]] | None = None,
    lexicon: Lexicon | None = None,
) -> Assessment:
    """The tier of a message, decided here and nowhere else.

    - `danger`: a lexicon phrase (outside any idiom), or the model's confidence in
      `distress` at DANGER_CONFIDENCE or more;
    - `check_in`: a weak lexicon phrase (a category's `check_in` list), or the model's
      confidence in `distress` at CHECK_IN_CONFIDENCE or more;
    - None otherwise.

    A message with an idiom ("mat b d7k", "je meurs de faim") and no lexicon phrase is
    never `danger` from the model alone, which may have read the idiom as death: at
    DANGER_CONFIDENCE or more it is a `check_in`, below nothing.

    `intent_ranking` is the model's (DIET's) ranking before any override; without it,
    the lexicon alone decides (what the dashboard does).
    """
    match, idiom = _scan(text, lexicon)
    confidence = distress_confidence(intent_ranking)
    if match is not None and match.tier == DANGER:
        return Assessment(DANGER, match.category, "lexicon", match.phrase, confidence)
    score = confidence or 0.0
    if score >= DANGER_CONFIDENCE and not idiom:
        category = match.category if match is not None else None
        return Assessment(DANGER, category, "model", None, confidence)
    if match is not None:
        return Assessment(CHECK_IN, match.category, "lexicon", match.phrase, confidence)
    if score >= (DANGER_CONFIDENCE if idiom else CHECK_IN_CONFIDENCE):
        return Assessment(CHECK_IN, None, "model", None, confidence)
    return Assessment(None, confidence=confidence)
