"""Text normalisation for understanding French, Darija and Arabizi messages.

One function, `normalise(text)`, folds the spellings that mean the same thing:

- Arabic script: harakat and Quranic marks dropped, tatweel dropped, alef variants
  (أ إ آ ٱ) to ا, ى to ي, presentation forms (ﻻ...) to plain letters, Arabic-Indic digits
  (٠-٩ and ۰-۹) to 0-9, Arabic punctuation (، ؛ ؟) to , ; ?
- Latin script: lower case, accents folded (é→e, ç→c, œ→oe).
- Any script: a letter repeated three times or more for emphasis becomes one letter
  ("salaaaam" → "salam", "بزااااف" → "بزاف"); a double letter is kept ("mzyan", "lkhout").
- Digits are never changed: inside Arabizi words they are letters ("n9ra", "3afak").

`normalise_with_spans(text)` also says where each character of the result comes from,
so that character offsets (entity annotations) can be moved between the two texts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_ARABIC_MARKS = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640"}
_ARABIC_MARKS |= {chr(c) for c in range(0x06D6, 0x06EE)} - {"\u06e5", "\u06e6"}
_ARABIC_LETTERS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"}
_ARABIC_PUNCTUATION = {"،": ",", "؛": ";", "؟": "?"}
_DIGITS = {chr(base + d): str(d) for base in (0x0660, 0x06F0) for d in range(10)}  # ٠-٩, ۰-۹
_LIGATURES = {"œ": "oe", "æ": "ae", "ß": "ss"}
EMPHASIS_RUN = 3  # a letter this many times in a row (or more) is emphasis


def _is_presentation_form(char: str) -> bool:
    return "\ufb50" <= char <= "\ufdff" or "\ufe70" <= char <= "\ufeff"


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character of the input as zero, one or more characters of the output."""
    if char in _ARABIC_MARKS:
        return ""
    if char in _ARABIC_LETTERS:
        return _ARABIC_LETTERS[char]
    if char in _ARABIC_PUNCTUATION:
        return _ARABIC_PUNCTUATION[char]
    if char in _DIGITS:
        return _DIGITS[char]
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
