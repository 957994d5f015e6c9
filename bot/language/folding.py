"""Text folding: the one home of every way Bousla makes spellings comparable.

Each reader of text needs its own fold, and each keeps its own tables: changing one would
change what that reader understands. They are the named levels of `fold(text, level)`:

- "nlu" (`normalise`): what the NLU model, language detection and the language actions
  read. Arabic script: harakat and Quranic marks dropped, tatweel dropped, alef variants
  (أ إ آ ٱ) to ا, ى to ي, presentation forms (ﻻ...) to plain letters, Arabic-Indic digits
  (٠-٩ and ۰-۹) to 0-9, Arabic punctuation (، ؛ ؟) to , ; ?. Latin script: lower case,
  accents folded (é→e, ç→c, œ→oe). Any script: a letter repeated three times or more for
  emphasis becomes one letter ("salaaaam" → "salam", "بزااااف" → "بزاف"); a double letter
  is kept ("mzyan", "lkhout"). Digits are never changed: inside Arabizi words they are
  letters ("n9ra", "3afak"). `normalise_with_spans(text)` also says where each character
  of the result comes from, so that entity offsets can be moved between the two texts.
- "choice": a reply to numbered choices (channels): lower case, accents and Arabic short
  vowels dropped, anything but letters and digits a space, single spaces.
- "answer": a reply to the follow-up question: "choice", then ة→ه, ى→ي, ڭ→ك.
- "place": commune names (orientation.geography): lower case, no accents or Arabic
  diacritics, ten Arabic letter variants unified (ة→ه, ؤ→و, ئ→ي, ڭ/گ→ك...), words
  separated by single spaces. "place_skeleton" reduces such a form to its consonants
  ("ain harrouda", "3in 7rouda" → "anhrd") to accept typos.
- "profile": answers to the profile questions (orientation.profile_answers): ASCII digits,
  lower case, no accents or Arabic diacritics, nine letter variants (not گ), and `+ - ' . ,`
  kept ("bac+2", "-3", "50.000").
- "lexicon_latin", "lexicon_skeleton", "lexicon_arabic": one word of a message as the
  distress lexicon compares it (safety): Latin without accents or repeated letters; the
  Arabizi consonant skeleton (9=q, 7=h, 3 and 2 dropped, kh/5, ch/sh, gh, vowels dropped);
  Arabic without harakat, tatweel, letter variants or repeated letters.
- "name", "name_skeleton": programme names and aliases and the messages searched for them
  (catalog.names): "nlu", then six Arabic letter variants (ة→ه, ى→ي, ؤ→و, ئ→ي, ڭ/گ→ك),
  NFKC, words of letters and digits separated by single spaces. "name_skeleton" reduces
  one such word of four letters or more to an Arabizi / French spelling skeleton
  ("intila9a", "intelaka" → "antalaka"); shorter words stay as they are.
- "intent_skeleton": an "nlu"-folded text as consonant skeletons, the same in both scripts
  (Arabic letters as the Arabizi consonant, 3 2 and vowels dropped, 7=h 9=q 5=kh=k, ch=x,
  gh=g: «بغيت», "bghit", "bghyt" → "bgt"); a feature of the linear intent classifier
  (bot.nlu.linear_intents) only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

FoldLevel = Literal[
    "nlu",
    "choice",
    "answer",
    "place",
    "place_skeleton",
    "profile",
    "lexicon_latin",
    "lexicon_skeleton",
    "lexicon_arabic",
    "name",
    "name_skeleton",
    "intent_skeleton",
]

# ---------------------------------------------------------------- shared tables

# Arabic letter variants. Every level folds the alef variants and ى; some fold more.
ALEF_AND_YA = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"}
_LEXICON_LETTERS = str.maketrans(ALEF_AND_YA | {"ة": "ه", "ؤ": "و", "ئ": "ي"})
_PROFILE_LETTERS = str.maketrans(ALEF_AND_YA | {"ة": "ه", "ؤ": "و", "ئ": "ي", "ڭ": "ك"})
_PLACE_LETTERS = str.maketrans(ALEF_AND_YA | {"ة": "ه", "ؤ": "و", "ئ": "ي", "ڭ": "ك", "گ": "ك"})
# After "choice" (NFKD has already split the hamza off أ إ آ ؤ ئ).
_ANSWER_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ڭ": "ك"})
LETTER_TABLES = {"profile": _PROFILE_LETTERS, "place": _PLACE_LETTERS}

ARABIC_INDIC_DIGITS = {chr(base + d): str(d) for base in (0x0660, 0x06F0) for d in range(10)}
# Harakat, Quranic marks and tatweel (profile answers and places).
_ARABIC_DIACRITICS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
# Short vowels, shadda, tatweel (the distress lexicon).
_HARAKAT = re.compile(r"[\u064B-\u065F\u0670\u0640]")
_REPEATS = re.compile(r"(.)\1+")


def _lower_without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str, level: FoldLevel) -> str:
    """`text` folded for one reader (see the module docstring for each level)."""
    return _FOLDS[level](text)


def fold_letters(text: str, level: Literal["profile", "place"]) -> str:
    """Only the Arabic letter variants of `level` unified (for patterns written by hand)."""
    return text.translate(LETTER_TABLES[level])


# ---------------------------------------------------------------- "nlu"

_ARABIC_MARKS = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}
_ARABIC_MARKS |= {chr(c) for c in range(0x06D6, 0x06EE)} - {"\u06e5", "\u06e6"}
_ARABIC_PUNCTUATION = {"،": ",", "؛": ";", "؟": "?"}
_LIGATURES = {"œ": "oe", "æ": "ae", "ß": "ss"}
EMPHASIS_RUN = 3  # a letter this many times in a row (or more) is emphasis


def _is_presentation_form(char: str) -> bool:
    return "\ufb50" <= char <= "\ufdff" or "\ufe70" <= char <= "\ufeff"


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character of the input as zero, one or more characters of the output."""
    if char in _ARABIC_MARKS:
        return ""
    if char in ALEF_AND_YA:
        return ALEF_AND_YA[char]
    if char in _ARABIC_PUNCTUATION:
        return _ARABIC_PUNCTUATION[char]
    if char in ARABIC_INDIC_DIGITS:
        return ARABIC_INDIC_DIGITS[char]
    if _is_presentation_form(char):
        folded = unicodedata.normalize("NFKC", char)
        return "".join(_fold_char(c) for c in folded) if folded != char else char
    if char.isascii():
        return char.lower()
    lower = char.lower()
    if lower in _LIGATURES:
        return _LIGATURES[lower]
    if "\u0600" <= char <= "\u06ff":
        return char
    decomposed = unicodedata.normalize("NFD", lower)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    # A lone combining accent (typed after its letter) is dropped with the rest.
    return base if (base or unicodedata.combining(char)) else lower


@dataclass(frozen=True)
class Normalised:
    """The normalised text and, for each of its characters, the span it comes from."""

    text: str
    original: str
    spans: tuple[tuple[int, int], ...]  # (start, end) in `original`, one per character

    def to_normalised(self, start: int, end: int) -> tuple[int, int]:
        """A span of the original text (an entity's start and end) in the normalised text."""
        new_start = next((k for k, (_, e) in enumerate(self.spans) if e > start), len(self.text))
        new_end = new_start
        for k in range(new_start, len(self.spans)):
            if self.spans[k][0] >= end:
                break
            new_end = k + 1
        return new_start, new_end

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """A span of the normalised text in the original text."""
        if start >= len(self.spans):
            return len(self.original), len(self.original)
        original_start = self.spans[start][0]
        if end <= start:
            return original_start, original_start
        return original_start, self.spans[min(end, len(self.spans)) - 1][1]


def normalise_with_spans(text: str) -> Normalised:
    """`normalise(text)`, with the origin of each character of the result."""
    chars: list[str] = []
    spans: list[list[int]] = []
    pending: int | None = None  # start of marks dropped before any kept character
    for index, char in enumerate(text):
        folded = _fold_char(char)
        if not folded:
            if spans and not chars[-1].isspace():  # a dropped mark belongs to its letter
                spans[-1][1] = index + 1
            elif pending is None:
                pending = index
            continue
        # Marks dropped after a space go with the next letter (none with a space).
        start = index if pending is None or folded.isspace() else pending
        pending = None
        for piece in folded:  # an expansion (ﻻ → لا, œ → oe) shares its source span
            chars.append(piece)
            spans.append([start, index + 1])

    # A letter repeated EMPHASIS_RUN times or more is one letter.
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    k = 0
    while k < len(chars):
        run_end = k + 1
        while run_end < len(chars) and chars[run_end] == chars[k]:
            run_end += 1
        if chars[k].isalpha() and run_end - k >= EMPHASIS_RUN:
            out.append(chars[k])
            out_spans.append((spans[k][0], spans[run_end - 1][1]))
        else:
            out.extend(chars[k:run_end])
            out_spans.extend((s, e) for s, e in spans[k:run_end])
        k = run_end
    return Normalised("".join(out), text, tuple(out_spans))


def normalise(text: str) -> str:
    """`text` with its spellings folded (see the module docstring)."""
    return normalise_with_spans(text).text


# ---------------------------------------------------------------- "choice", "answer"


def _choice(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":  # accents (and Arabic short vowels)
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


def _answer(text: str) -> str:
    return _choice(text).translate(_ANSWER_LETTERS)


# ---------------------------------------------------------------- "place", "place_skeleton"

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_PLACE_SOUNDS = str.maketrans({"3": "a", "7": "h", "9": "q", "2": "a", "5": "h", "8": "h"})


def _place(text: str) -> str:
    unified = _ARABIC_DIACRITICS.sub("", _lower_without_accents(text)).translate(_PLACE_LETTERS)
    return " ".join(_NOT_WORD.sub(" ", unified).replace("_", " ").split())


def _place_skeleton(text: str) -> str:
    sounds = _place(text).translate(_PLACE_SOUNDS).replace(" ", "").replace("ou", "u")
    sounds = sounds.replace("ch", "sh")
    if not sounds:
        return ""
    kept = sounds[0] + "".join(c for c in sounds[1:] if c not in "aeiouy")
    return _REPEATS.sub(r"\1", kept)


# ---------------------------------------------------------------- "profile"

_PROFILE_DIGITS = str.maketrans(ARABIC_INDIC_DIGITS)
_PROFILE_PUNCTUATION = str.maketrans({"’": "'", "`": "'", "،": ",", "؟": "?", "−": "-", "–": "-"})


def _profile(text: str) -> str:
    text = str(text).translate(_PROFILE_DIGITS).translate(_PROFILE_PUNCTUATION)
    text = unicodedata.normalize("NFC", _lower_without_accents(text))
    text = _ARABIC_DIACRITICS.sub("", text).translate(_PROFILE_LETTERS)
    return " ".join(text.split())


# ---------------------------------------------------------------- the distress lexicon's words

# Arabizi spellings of one sound, folded to one symbol (longest first).
_ARABIZI_DIGRAPHS = (("kh", "5"), ("gh", "ɣ"), ("ch", "c"), ("sh", "c"), ("dh", "d"), ("th", "t"))
_ARABIZI_CHARS = str.maketrans({"9": "q", "7": "h", "8": "h", "3": None, "2": None})
_VOWELS = re.compile(r"[aeiouy]")


def _lexicon_latin(word: str) -> str:
    return _REPEATS.sub(r"\1", _lower_without_accents(word))


def _lexicon_skeleton(word: str) -> str:
    word = _lexicon_latin(word)
    if word.isdigit():
        return word  # a number, not Arabizi
    for digraph, symbol in _ARABIZI_DIGRAPHS:
        word = word.replace(digraph, symbol)
    word = _VOWELS.sub("", word.translate(_ARABIZI_CHARS))
    return _REPEATS.sub(r"\1", word)


def _lexicon_arabic(word: str) -> str:
    word = _HARAKAT.sub("", word).translate(_LEXICON_LETTERS)
    return _REPEATS.sub(r"\1", word)


# ---------------------------------------------------------------- programme names

_NAME_LETTERS = str.maketrans({"ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي", "ڭ": "ك", "گ": "ك"})
_NAME_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")
_NAME_SKELETON_MIN = 4  # shorter words ("ads", "e2c") only match exactly


def _name(text: str) -> str:
    text = unicodedata.normalize("NFKC", normalise(str(text)).translate(_NAME_LETTERS))
    return " ".join(_NAME_WORD.findall(text))


def _name_skeleton(word: str) -> str:
    if _ARABIC_LETTER.search(word) or len(word) < _NAME_SKELETON_MIN:
        return word
    for digits, letters in (("7", "h"), ("9", "k"), ("5", "kh"), ("8", "h"), ("3", ""), ("2", "")):
        word = word.replace(digits, letters)
    for spelling, sound in (("sh", "ch"), ("ph", "f"), ("dj", "j"), ("ck", "k"), ("q", "k")):
        word = word.replace(spelling, sound)
    word = re.sub(r"c(?!h)", "k", word)
    word = _REPEATS.sub(r"\1", word)  # doubled letters
    return re.sub(r"[aeiouyw]+", "a", word)  # vowels (and w between them) folded


# ---------------------------------------------------------------- intent skeleton

# Arabic letters as the consonant an Arabizi writer would type; long vowels, ع and hamza
# carriers dropped ("بغيت" -> "bgt", like "bghit" and "bghyt").
_SKELETON_ARABIC = str.maketrans(
    {"ب": "b", "پ": "b", "ت": "t", "ث": "t", "ج": "j", "ح": "h", "خ": "k", "د": "d", "ذ": "d",
     "ر": "r", "ز": "z", "س": "s", "ش": "x", "ص": "s", "ض": "d", "ط": "t", "ظ": "d", "غ": "g",
     "ف": "f", "ڤ": "f", "ق": "q", "ك": "k", "گ": "g", "ڭ": "g", "ل": "l", "م": "m", "ن": "n",
     "ه": "h"}
)  # fmt: skip
_SKELETON_LATIN = (
    ("kh", "k"), ("gh", "g"), ("ch", "x"), ("sh", "x"), ("dj", "j"), ("ou", ""), ("th", "t"),
    ("3", ""), ("7", "h"), ("9", "q"), ("2", ""), ("5", "k"), ("8", "h"), ("c", "k"),
)  # fmt: skip
_SKELETON_DROPPED_LATIN = re.compile(r"[aeiouyw]")
_SKELETON_KEPT_ARABIC = re.compile(r"[^bdfghjklmnqrstxz]")


def _intent_skeleton_word(word: str) -> str:
    if _ARABIC_LETTER.search(word):
        word = _SKELETON_KEPT_ARABIC.sub("", word.translate(_SKELETON_ARABIC))
    else:
        for spelling, consonant in _SKELETON_LATIN:
            word = word.replace(spelling, consonant)
        word = _SKELETON_DROPPED_LATIN.sub("", word)
    return _REPEATS.sub(r"\1", word)


def _intent_skeleton(text: str) -> str:
    """Darija words of an "nlu"-folded text as consonant skeletons, the same in both
    scripts (a feature of bot.nlu.linear_intents, never of DIET)."""
    words = (_intent_skeleton_word(w) for w in re.findall(r"\w+", text))
    return " ".join(w for w in words if w)


_FOLDS: dict[str, Callable[[str], str]] = {
    "nlu": normalise,
    "choice": _choice,
    "answer": _answer,
    "place": _place,
    "place_skeleton": _place_skeleton,
    "profile": _profile,
    "lexicon_latin": _lexicon_latin,
    "lexicon_skeleton": _lexicon_skeleton,
    "lexicon_arabic": _lexicon_arabic,
    "name": _name,
    "name_skeleton": _name_skeleton,
    "intent_skeleton": _intent_skeleton,
}
