"""Language: which language a message is written in, and every way Bousla folds text.

- `detect(text)`: `fr`, `ary` (Darija, Arabic script) or `ary_latn` (Darija in Latin
  letters, "Arabizi"), deterministic and cheap. A low confidence means "too short to tell"
  ("ok", "1", an emoji): callers keep the language they had. The n-gram model it uses is
  `ngrams`.
- `fold(text, level)` (`folding`): the named fold levels, one per reader of text (NLU,
  numbered choices, follow-up answers, places, profile answers, the distress lexicon).
- `numbers`: number words, for choices ("jouj" → 2) and quantities ("khamsa w 3chrin").
- `LANGUAGES`: the three language codes, in the order replies are written.
"""

from bot.language.detect import STICKY_BELOW, Detection, detect
from bot.language.folding import FoldLevel, fold

LANGUAGES = ("fr", "ary", "ary_latn")

__all__ = ["LANGUAGES", "STICKY_BELOW", "Detection", "FoldLevel", "detect", "fold"]
