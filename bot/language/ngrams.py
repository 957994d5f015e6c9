"""French or Arabizi? A naive Bayes model over character n-grams of Latin-script words.

Arabic script settles `ary` by itself; Latin letters can be French or Darija written in
Latin letters ("Arabizi"), which share many words ("merci", "formation", "ok"). This model
learns which character sequences each of the two uses from Bousla's own NLU training
examples (`bot/data/nlu/fr/` and `bot/data/nlu/ary_latn/`: the folder is the language),
so it is built from the data the assistant is trained on, never from the held-out
evaluation set, and it needs no download. It is built on first use (a few hundred
milliseconds) and kept in memory.

Each word (normalised: lower case, no accents, emphasis letters folded) is seen as the
n-grams of ` word ` for n = 1..MAX_N, plus the whole word and one cue: a digit inside a
word, Arabizi's letters for sounds French does not have (3=ع 7=ح 9=ق 2=ء 5=خ 8=ه).
The model keeps, for every feature, its log-likelihood ratio (Arabizi over French).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot import PROJECT_ROOT
from bot.language.folding import normalise

TRAINING_DIR = PROJECT_ROOT / "bot" / "data" / "nlu"
FRENCH, ARABIZI = "fr", "ary_latn"
MAX_N = 4
SMOOTHING = 0.5  # additive smoothing of the n-gram counts
# Mean log-likelihood ratio per feature of a word is divided by this to read the word's
# evidence on a probability-like scale (chosen by cross-validation on the training data).
TEMPERATURE = 1.0

# Entity annotations of Rasa's training format: [text](entity) or [text]{"entity": ...}.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
# A Latin-script word after normalisation: letters and digits, inner apostrophes allowed.
_LETTER_OR_DIGIT = r"[a-z0-9\u00df-\u00f6\u00f8-\u024f]"
LATIN_WORD = re.compile(rf"{_LETTER_OR_DIGIT}+(?:'{_LETTER_OR_DIGIT}+)*")
_ARABIZI_DIGIT = re.compile(r"[a-z][235789]|[235789][a-z]")


def plain_text(example: str) -> str:
    """A training example without its entity annotations."""
    return _ANNOTATION.sub(r"\1", example)


def training_examples(root: Path = TRAINING_DIR) -> dict[str, list[str]]:
    """The plain text of every NLU training example of `root/<lang>/*.yml`, by language."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    examples: dict[str, list[str]] = {}
    for lang in (FRENCH, ARABIZI, "ary"):
        texts: list[str] = []
        for path in sorted((root / lang).glob("*.yml")):
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
            for item in document.get("nlu") or []:
                block = item.get("examples") if isinstance(item, dict) else None
                if not isinstance(block, str):
                    continue
                for line in block.splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        texts.append(plain_text(line[2:]).strip())
        examples[lang] = texts
    return examples


def latin_words(text: str) -> list[str]:
    """The Latin-script words of an already normalised text (numbers left out)."""
    return [w for w in LATIN_WORD.findall(text) if not w.replace("'", "").isdigit()]


def word_features(word: str, max_n: int = MAX_N) -> Iterator[str]:
    padded = f" {word} "
    for n in range(1, max_n + 1):
        for start in range(len(padded) - n + 1):
            gram = padded[start : start + n]
            if gram != " ":
                yield gram
    yield f"w:{word}"
    if _ARABIZI_DIGIT.search(word):
        yield "cue:digit-letter"


@dataclass(frozen=True)
class WordEvidence:
    word: str
    score: float  # > 0: Arabizi, < 0: French (mean log-likelihood ratio of its features)
    known: int  # features of the word the model has seen


class LatinModel:
    """Log-likelihood ratios (Arabizi over French) of word features."""

    def __init__(self, ratios: dict[str, float], max_n: int = MAX_N) -> None:
        self.ratios = ratios
        self.max_n = max_n

    @classmethod
    def train(
        cls,
        french: Iterable[str],
        arabizi: Iterable[str],
        max_n: int = MAX_N,
        smoothing: float = SMOOTHING,
    ) -> LatinModel:
        counts = {FRENCH: Counter(), ARABIZI: Counter()}
        for lang, texts in ((FRENCH, french), (ARABIZI, arabizi)):
            for text in texts:
                for word in latin_words(normalise(text)):
                    counts[lang].update(word_features(word, max_n))
        vocabulary = set(counts[FRENCH]) | set(counts[ARABIZI])
        size = len(vocabulary)
        totals = {lang: sum(c.values()) + smoothing * size for lang, c in counts.items()}
        ratios = {
            feature: math.log((counts[ARABIZI][feature] + smoothing) / totals[ARABIZI])
            - math.log((counts[FRENCH][feature] + smoothing) / totals[FRENCH])
            for feature in sorted(vocabulary)
        }
        return cls(ratios, max_n)

    def word(self, word: str) -> WordEvidence:
        total, known = 0.0, 0
        for feature in word_features(word, self.max_n):
            ratio = self.ratios.get(feature)
            if ratio is not None:
                total += ratio
                known += 1
        return WordEvidence(word, total / known if known else 0.0, known)


@lru_cache(maxsize=1)
def latin_model() -> LatinModel:
    """The model of Bousla's training data, built once per process."""
    examples = training_examples()
    return LatinModel.train(examples[FRENCH], examples[ARABIZI])
