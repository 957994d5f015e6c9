"""Whether a person's own words say their gender ("ana khddama", "je suis allée").

Darija and French replies are gendered (nta/nti, khddam/khddama, saken/sakna,
allé(e)). Bousla uses wording that fits everyone, or both forms, until the person says it
of themselves; then the slot `gender` (set by `action_detect_language` on every message)
picks the right variant of the replies in domain.yml (issue 16, item 7).

Only first-person statements count: a participle or noun after "ana", "rani", "kont",
"ma" (negation) or at the start of a sentence ("ما خدامة ما والو، گالسة ف الدار"), and
French "je suis ..." (also "chui", "j'suis", "jsuis"). "khti khddama" (my sister works)
or "le projet est lancé" say nothing about the person. The last statement wins.
"""

from __future__ import annotations

import re

from bot.language.folding import normalise

FEMININE, MASCULINE = "f", "m"

# Darija participles and nouns a person uses of themselves, feminine then masculine.
# Written as `normalise` leaves them (lower case; the Arabic as typed: ة stays).
_DARIJA = {
    FEMININE: """khddama khdama sakna m9al9a mqalqa galsa gal3a ga3da 3yana ta3bana mrida
        mzawja mzwja mtzawja mtzwja talba tlmida mtalqa mtl9a msaliya mkhrja mtkhrja
        wajda mssalya
        خدامة ساكنة مقلقة گالسة ݣالسة كالسة جالسة قاعدة عيانة تعبانة مريضة مزوجة متزوجة
        طالبة تلميذة مطلقة مسالية متخرجة واجدة""",
    MASCULINE: """khddam khdam saken m9ala9 mqalaq gales ga3ed 3yan ta3ban mrid mzawj mzwj
        mtzawj mtzwj taleb tlmid mtale9 msali mtkhrej wajed
        خدام ساكن مقلق گالس ݣالس كالس جالس قاعد عيان تعبان مريض مزوج متزوج طالب تلميذ
        مطلق مسالي متخرج واجد""",
}
# Nouns only after "ana" / "je suis un(e)": "bent 3ammi khddama" is about a cousin.
_NOUNS = {
    FEMININE: (
        r"\b(?:ana|rani)\s+(?:bent|mra)|(?:انا|راني)\s+(?:بنت|مرا)"
        r"|\bje\s+suis\s+une\s+(?:fille|femme|jeune|maman|mere)"
    ),
    MASCULINE: (
        r"\b(?:ana|rani)\s+(?:weld|rajel)|(?:انا|راني)\s+(?:ولد|راجل)"
        r"|\bje\s+suis\s+un\s+(?:garcon|homme|jeune|papa|pere)"
    ),
}
_DARIJA_ANCHOR = (
    r"(?:^|[.,!?;:،؟\n]\s*|\b(?:ana|rani|rah?ani|kont|konte|ma)\s+|(?:انا|راني|كنت|ما)\s+)"
)

# French: "je suis" + a gendered participle, adjective or noun (accents already folded).
_FRENCH = {
    FEMININE: """allee nee inscrite diplomee mariee seule prete interessee motivee sortie
        arrivee restee etudiante couturiere coiffeuse vendeuse serveuse caissiere
        enceinte divorcee fatiguee perdue inquiete stressee contente
        habituee salariee licenciee""",
    MASCULINE: """alle ne inscrit diplome marie seul pret interesse motive sorti arrive reste
        etudiant couturier coiffeur vendeur serveur caissier divorce fatigue
        perdu inquiet stresse content habitue salarie licencie""",
}
_FRENCH_ANCHOR = (
    r"\b(?:je\s+suis|j'?\s?suis|chui|je\s+me\s+suis|j'ai\s+ete)\s+"
    r"(?:pas\s+|tres\s+|deja\s+|toute?\s+)?"
)


def _pattern(anchor: str, words: str) -> re.Pattern[str]:
    alternatives = "|".join(
        sorted({re.escape(normalise(w)) for w in words.split()}, key=len, reverse=True)
    )
    letter = r"[\w\u0600-\u06FF]"
    return re.compile(rf"{anchor}(?:{alternatives})(?!{letter})")


_PATTERNS = [(gender, _pattern(_DARIJA_ANCHOR, words)) for gender, words in _DARIJA.items()] + [
    (gender, _pattern(_FRENCH_ANCHOR, words)) for gender, words in _FRENCH.items()
]
_PATTERNS += [
    (gender, re.compile(rf"(?:{nouns})(?![\w\u0600-\u06FF])")) for gender, nouns in _NOUNS.items()
]


def said_gender(text: str) -> str | None:
    """ "f" or "m" when the person's words say it of themselves, else None."""
    folded = normalise((text or "")[:1000])
    found: list[tuple[int, str]] = []
    for gender, pattern in _PATTERNS:
        found += [(match.end(), gender) for match in pattern.finditer(folded)]
    return max(found)[1] if found else None
