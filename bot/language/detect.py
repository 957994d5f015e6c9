"""Language detection: script ratio first, then French or Arabizi by character n-grams.

1. The text is normalised (`bot.language.folding`): lower case, accents and Arabic
   letter variants folded, emphasis letters collapsed ("salaaam" → "salam").
2. Arabic letters outnumber Latin ones: Darija in Arabic script (`ary`); confidence
   grows with the number of Arabic letters (one or two letters are too few to tell).
3. Otherwise each Latin word gets the evidence of the n-gram model trained on Bousla's
   own examples (`bot.language.ngrams`; Arabizi digits inside words are one of its cues),
   the words' evidence is summed and read as a probability. Confidence is the margin of
   that probability, lowered for messages with few letters: "ok", "merci", "1" or an emoji
   get a low confidence and the slot `language` stays as it was.
4. `mixed` is set when the message carries both scripts, or words that are clearly French
   next to words that are clearly Arabizi ("merci bzaf"); `lang` is the dominant one.

Deterministic, and well under a millisecond for a chat message (only the first
MAX_CHARS characters of a long text are read).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.language.folding import normalise
from bot.language.ngrams import ARABIZI, FRENCH, latin_model, latin_words

# Below this confidence a message is too short to tell: keep the current language.
STICKY_BELOW = 0.5
MAX_CHARS = 1000  # enough to tell; bounds the work on a very long message
# Scale from summed word evidence to log-odds (log-loss fitted by cross-validation on
# the training examples, see docs/benchmarks.md "Language identification").
EVIDENCE_SCALE = 1.4
STRONG_WORD = 1.0  # a word this far from 0 clearly belongs to one language (for `mixed`)
FULL_CONFIDENCE_LETTERS = 4  # fewer Latin letters than this lower the confidence
ARABIC_FULL_CONFIDENCE_LETTERS = 5

_ARABIC = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06D5\u06FA-\u06FF\u0750-\u077F]")
_LATIN = re.compile(r"[a-z\u00df-\u00f6\u00f8-\u024f]")


@dataclass(frozen=True)
class Detection:
    lang: str  # fr | ary | ary_latn
    confidence: float  # 0..1; below STICKY_BELOW the message is too short to tell
    mixed: bool = False  # several languages in one message

    @property
    def is_confident(self) -> bool:
        return self.confidence >= STICKY_BELOW


def detect(text: str) -> Detection:
    """Detect the dominant language of `text` (see module docstring)."""
    normalised = normalise((text or "")[:MAX_CHARS])
    arabic = len(_ARABIC.findall(normalised))
    latin = len(_LATIN.findall(normalised))
    letters = arabic + latin
    if letters == 0:
        return Detection(FRENCH, 0.0)
    if arabic >= latin:
        confidence = min(1.0, arabic / ARABIC_FULL_CONFIDENCE_LETTERS) * (arabic / letters)
        return Detection("ary", round(confidence, 3), mixed=latin >= 3)

    model = latin_model()
    scores = [model.word(word).score for word in latin_words(normalised)]
    evidence = sum(scores)
    probability = 1 / (1 + math.exp(-EVIDENCE_SCALE * max(-50.0, min(50.0, evidence))))
    lang = ARABIZI if evidence > 0 else FRENCH
    margin = abs(2 * probability - 1)
    confidence = margin * min(1.0, latin / FULL_CONFIDENCE_LETTERS) * (latin / letters)
    mixed = arabic >= 3 or (
        any(s >= STRONG_WORD for s in scores) and any(s <= -STRONG_WORD for s in scores)
    )
    return Detection(lang, round(confidence, 3), mixed=mixed)
