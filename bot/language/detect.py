"""Language detection by script ratio and Arabizi/French cue words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Below this confidence a message is too short to tell: keep the current language.
STICKY_BELOW = 0.5

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LATIN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]")
_WORD = re.compile(r"[\w']+", re.UNICODE)
# Arabizi: a digit standing for a sound inside a word (3=ع 7=ح 9=ق 2=ء 5=خ 8=ه).
_ARABIZI_DIGIT = re.compile(r"(?i)(?:[a-z][235789]|[235789][a-z])")

DARIJA_CUES = frozenset(
    """
    ana nta nti hna howa hiya 7na ntouma homa dyal dyali dyalk dyalek dyalna lia lik lih
    bghit bghina bghiti baghi bagha kanbghi wach wash chno chnou achno ach fin fine kifach
    kifash 3lach 3lash imta chhal ch7al bzaf bezaf chwiya chi walo walou makayn kayn kaynin
    mzyan mezyan zwin wakha safi yallah daba ghir hadi hadak hadik hada dak dik khdma
    khedma nkhdem nkhdm n9ra 9raya kan9ra kankhdem salam slm labas bikhir hamdullah
    hamdoulah choukran chokran shokran 3afak afak 3afk smeh sme7 lah llah inchallah
    bslama flouss flous drari l3chir khoya khouya okhti m3a m3aya m3ak 3la 3lik
    ma3rftch mafhmtch ma3ndich 3andi 3ndi aandi ila wla ola walakin hit 7it
    """.split()  # noqa: SIM905 - a word list is easier to edit as text
)
FRENCH_CUES = frozenset(
    """
    je j tu il elle nous vous ils elles le la les un une des du de au aux est suis es
    sont ai as avons pour avec sans dans sur mais ou et que qui quoi pas ne plus tres
    bonjour bonsoir merci oui non salut svp stp cherche veux voudrais peux travail emploi
    formation projet aide besoin comment pourquoi quand mon ma mes ton ta tes
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Detection:
    lang: str  # fr | ary | ary_latn
    confidence: float  # 0..1; below STICKY_BELOW the message is too short to tell
    mixed: bool = False  # several languages in one message

    @property
    def is_confident(self) -> bool:
        return self.confidence >= STICKY_BELOW


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect(text: str) -> Detection:
    """Detect the dominant language of `text` (see module docstring)."""
    text = text or ""
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    letters = arabic + latin
    if letters == 0:
        return Detection("fr", 0.0)
    if arabic >= latin:
        confidence = min(1.0, arabic / 6) * (arabic / letters)
        return Detection("ary", round(confidence, 3), mixed=latin > 3)

    words = [_fold(w) for w in _WORD.findall(text)]
    darija = sum(1 for w in words if w in DARIJA_CUES)
    darija += 2 * len(_ARABIZI_DIGIT.findall(text))
    french = sum(1 for w in words if w in FRENCH_CUES)
    evidence = darija + french
    lang = "ary_latn" if darija > french else "fr"
    if evidence == 0:
        # Latin letters but no cue: lean French, confidently only for longer messages.
        return Detection("fr", round(min(0.6, latin / 40), 3), mixed=arabic > 0)
    share = max(darija, french) / evidence
    confidence = share * min(1.0, evidence / 2)
    mixed = arabic > 3 or (darija > 0 and french > 0)
    return Detection(lang, round(confidence, 3), mixed=mixed)
