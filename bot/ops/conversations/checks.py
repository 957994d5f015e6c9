"""Checks on one bot message that need no stack: script and language, gender, programmes.

They are deliberately independent of Bousla's own language detection and matching: a
checker that shares the code it checks would agree with its mistakes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

LANGUAGES = ("fr", "ary", "ary_latn")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ---------------------------------------------------------------- script and language

ARABIC_LETTER = re.compile(
    r"[\u0620-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFC]"
)
LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿŒœ]")
# Not words of any language: addresses, numbers with units, acronyms of organisations.
NOT_WORDS = re.compile(
    r"https?://\S+|www\.\S+|\b[\w.-]+\.(?:ma|com|org|net|gov\.ma)\b\S*|\S+@\S+"
    r"|\b(?:OFPPT|ANAPEC|INDH|ODCO|ADS|BTS|DUT|TS|CIN|DH|SMarT|CNSS|AMO|SARL|CV|PDF)\b"
)
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)

# Words only French uses (ambiguous ones such as "la", "ma", "a", "l" left out).
FRENCH_WORDS = _words(
    """
    le les de des du un une et est tu te toi ton tes je j me moi mon mes pour avec dans sur
    pas que qui quoi ce ça cette ces vous nous mais ou où au aux en il elle on peux peut
    veux veut as es sont plus très bien aussi ici quand comment si sans chez par ne n qu c
    d s t y leur leurs notre votre été être avoir fait faire dit dire écris écrire bonjour
    merci voici voilà d'accord souci choisis réponds tout tous toute toutes
    """
)
# Words only Darija in Latin letters uses.
ARABIZI_WORDS = _words(
    """
    dyal dyali dyalek dyalk dyalo dyalha dyalna chno chnou chnu bghiti bghit bghina kifach
    kifash wach ghadi daba ila wla bach walakin kayn kayna kaynin t9der n9der y9der lik lia
    liya m3a m3ak m3aya mzyan chi 3la mn f w hna ana nta nti ntouma had hadi hada hadchi
    ktar bzaf ghir 7ta 3and 3ndek 3endek machi wakha safi lmarkaz moustachar kteb goul tgol
    sme7 kolchi walou chwiya fin fach ch7al wselti kaddir kat9leb 3lih 3lik mochkil
    mouchkil nkmlo khdma khdmat tl9a nl9aw ynasbek barnamaj lbarnamaj ma3loumat jama3a 3in
    7rouda ah la3 bla jmil okhra 7aja thder tchouf ntrecha7 ttrecha7 tjib kay3tik
    """
)
ARABIZI_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=.*[235789])[a-z0-9']+$")


def _plain(text: str) -> str:
    return NOT_WORDS.sub(" ", text)


def script_of(text: str) -> str | None:
    """ "arabic", "latin" or "mixed"; None when there are too few letters to tell."""
    plain = _plain(text)
    arabic = len(ARABIC_LETTER.findall(plain))
    latin = len(LATIN_LETTER.findall(plain))
    if arabic + latin < 4:
        return None
    share = arabic / (arabic + latin)
    if share >= 0.6:
        return "arabic"
    if share <= 0.25:
        return "latin"
    return "mixed"


def latin_language(text: str) -> str | None:
    """ "fr" or "ary_latn" by vocabulary, None when the words do not clearly say."""
    words = [w.lower() for w in WORD.findall(_plain(text).replace("’", "'"))]
    french = arabizi = 0
    for word in words:
        head = word.split("'")[0]
        if word in FRENCH_WORDS or head in FRENCH_WORDS:
            french += 1
        elif word in ARABIZI_WORDS or ARABIZI_DIGIT_WORD.match(word):
            arabizi += 1
    if french >= 2 and french >= 2 * arabizi:
        return "fr"
    if arabizi >= 2 and arabizi >= 2 * french:
        return "ary_latn"
    return None


def language_problem(text: str, expected: str) -> str | None:
    """Why `text` is not in the `expected` language (fr, ary, ary_latn), or None."""
    script = script_of(text)
    if script is None:
        return None
    if expected == "ary":
        return None if script == "arabic" else f"{script} letters for a person writing ary"
    if script != "latin":
        return f"{script} letters for a person writing {expected}"
    found = latin_language(text)
    if found is not None and found != expected:
        return f"reads as {found} for a person writing {expected}"
    return None


# ---------------------------------------------------------------- gender

# Forms addressing the person that say a gender. Both forms written together ("nta/nti",
# "allé(e)", "seul·e") are neutral; so are phrases where the word is about something else
# ("khddam mn 9bel": the project is already running).
NEUTRAL_PHRASES = re.compile(
    r"\bnta\s*/\s*nti\b|\bnti\s*/\s*nta\b|نتا\s*/\s*نتي|نتي\s*/\s*نتا"
    r"|\bkhddam(?:a)?\s*/\s*khddam(?:a)?\b|خدام\s*/\s*خدامة|خدامة\s*/\s*خدام"
    r"|\bsaken\s*/\s*sakna\b|\bsakna\s*/\s*saken\b|ساكن\s*/\s*ساكنة|ساكنة\s*/\s*ساكن"
    r"|\bkhddam mn 9bel\b|خدام من قبل|\w+\(e\)|\w+·e\b|\w+\.e\b"
    # about a programme or a job, not the person: "wach mazal khddam" (still running),
    # "awwel khddama" (a first hire)
    r"|\bmazal khddam\b|مازال خدام|\bawwel khddama?\b|أول خدامة",
    re.IGNORECASE,
)
MASCULINE = {
    "khddam": r"\bkhdd?am\b",
    "saken": r"\bsaken\b",
    "nta": r"\bnta\b",
    "m9ala9": r"\bm9ala9\b",
    "wajed": r"\bwajed\b",
    "خدام": r"(?<![\u0621-\u064A\u066E-\u06D3])خدام(?![\u0621-\u064A\u066E-\u06D3])",
    "ساكن": r"(?<![\u0621-\u064A\u066E-\u06D3])ساكن(?![\u0621-\u064A\u066E-\u06D3])",
    "نتا": r"(?<![\u0621-\u064A\u066E-\u06D3])نتا(?![\u0621-\u064A\u066E-\u06D3])",
    "واجد": r"(?<![\u0621-\u064A\u066E-\u06D3])واجد(?![\u0621-\u064A\u066E-\u06D3])",
    "allé": r"\ballé\b(?![e(])",
    "seul": r"\bseul\b(?![e·(])",
    "inscrit": r"\binscrit\b(?![e(])",
    "prêt": r"\bprêt\b(?![e(])(?! d'honneur)",
    "intéressé": r"\bintéressé\b(?![e(])",
    "sûr": r"\bsûr\b(?![e(])",
    "motivé": r"\bmotivé\b(?![e(])",
}
FEMININE = {
    "khddama": r"\bkhdd?ama\b",
    "sakna": r"\bsakna\b",
    "nti": r"\bnti\b",
    "m9al9a": r"\bm9al9a\b",
    "wajda": r"\bwajda\b",
    "خدامة": r"(?<![\u0621-\u064A\u066E-\u06D3])خدامة(?![\u0621-\u064A\u066E-\u06D3])",
    "ساكنة": r"(?<![\u0621-\u064A\u066E-\u06D3])ساكنة(?![\u0621-\u064A\u066E-\u06D3])",
    "نتي": r"(?<![\u0621-\u064A\u066E-\u06D3])نتي(?![\u0621-\u064A\u066E-\u06D3])",
    "واجدة": r"(?<![\u0621-\u064A\u066E-\u06D3])واجدة(?![\u0621-\u064A\u066E-\u06D3])",
    "allée": r"\ballée\b",
    "seule": r"\bseule\b",
    "inscrite": r"\binscrite\b",
    "prête": r"\bprête\b",
    "intéressée": r"\bintéressée\b",
    "sûre": r"\bsûre\b",
    "motivée": r"\bmotivée\b",
}
_MASCULINE = {form: re.compile(p, re.IGNORECASE) for form, p in MASCULINE.items()}
_FEMININE = {form: re.compile(p, re.IGNORECASE) for form, p in FEMININE.items()}


def gendered_forms(text: str) -> tuple[list[str], list[str]]:
    """(masculine-only forms, feminine-only forms) addressing the person in `text`."""
    plain = NEUTRAL_PHRASES.sub(" ", unicodedata.normalize("NFC", text))
    masculine = [form for form, pattern in _MASCULINE.items() if pattern.search(plain)]
    feminine = [form for form, pattern in _FEMININE.items() if pattern.search(plain)]
    return masculine, feminine


def gender_problem(text: str, known: str | None) -> str | None:
    """Gendered forms the person's own words do not allow yet (`known`: "f", "m" or None)."""
    masculine, feminine = gendered_forms(text)
    wrong = {None: masculine + feminine, "f": masculine, "m": feminine}[known]
    if not wrong:
        return None
    said = {None: "before the person said their gender", "f": "for a woman", "m": "for a man"}
    return f"{', '.join(wrong)} {said[known]}"


# ---------------------------------------------------------------- programmes

GENERIC_PREFIXES = re.compile(
    r"^(programme|barnamaj|lbarnamaj|برنامج|البرنامج|formation|takwin|تكوين|contrat)\s+",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Lower case, no accents or Arabic short vowels, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split())


# Words of programme names too common to name a programme on their own.
COMMON_NAME_WORDS = _words(
    """
    programme barnamaj lbarnamaj formation takwin contrat statut maroc casablanca settat
    harrouda chabab jeunes nationale national professionnelle lmihani creer cooperative
    coopératives cooperatives honneur appui activites revenus inclusion initiatives
    incubateur solidaires impact metiers competences madinat lmihan lkafa2at entreprendre
    reseau deuxieme chance forsa tanya madrasat maison fondation entraide watani ta3awon
    dakhl idmaj insertion modirra l2anchita tassis t3awniya 7rouda ecole entrepreneur tkwin
    generatrices lmodirra l7adina smart dyalek dyali agence banque banques mohammedia
    minassat dyalna dyalkom dyalha mohamedia diplome
    """
)


@dataclass(frozen=True)
class Mention:
    program_id: str
    position: int  # where the name starts in the folded text


class ProgramNames:
    """Finds the catalogue programmes a text names: by their names in the three
    languages, the names without "Programme"/"Barnamaj", the acronym in parentheses and
    their `aliases` when the catalogue has some. Longer names win over the names they
    contain ("Madrasat forsa tanya" is not Forsa)."""

    def __init__(self, names: dict[str, set[str]], status: dict[str, str] | None = None) -> None:
        self.names = names
        self.status = status or {}  # active | to_confirm | ... by programme id
        self._keys = sorted(
            ((fold(name), program_id) for program_id, forms in names.items() for name in forms),
            key=lambda pair: -len(pair[0]),
        )
        self._keys = [(key, pid) for key, pid in self._keys if len(key) >= 3]

    @classmethod
    def from_catalog(cls, directory: Path) -> ProgramNames:
        raw = {}
        for path in sorted(Path(directory).glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if isinstance(data, dict) and data.get("id"):
                raw[data["id"]] = data
        names: dict[str, set[str]] = {}
        for program_id, data in raw.items():
            forms = {program_id.replace("-", " ")}
            for value in (data.get("name") or {}).values():
                forms.add(str(value))
                forms.add(GENERIC_PREFIXES.sub("", str(value)))
                forms.update(re.findall(r"\(([^)]+)\)", str(value)))
                forms.add(re.sub(r"\s*\([^)]*\)", "", str(value)))
            aliases = data.get("aliases") or []
            if isinstance(aliases, dict):
                aliases = [a for values in aliases.values() for a in (values or [])]
            forms.update(str(a) for a in aliases)
            names[program_id] = {f.strip() for f in forms if f and f.strip()}
        # Words of the names that belong to one programme only ("Moubadara", "Taehil").
        word_owners: dict[str, set[str]] = {}
        for program_id, forms in names.items():
            for form in forms:
                for word in fold(form).split():
                    latin = all("a" <= c <= "z" or c.isdigit() for c in word)
                    if latin and len(word) >= 5 and word not in COMMON_NAME_WORDS:
                        word_owners.setdefault(word, set()).add(program_id)
        for word, owners_of_word in word_owners.items():
            if len(owners_of_word) == 1:
                names[next(iter(owners_of_word))].add(word)
        # A form shared by several programmes ("ANAPEC") names none of them.
        owners: dict[str, set[str]] = {}
        for program_id, forms in names.items():
            for form in forms:
                owners.setdefault(fold(form), set()).add(program_id)
        return cls(
            {pid: {f for f in forms if len(owners[fold(f)]) == 1} for pid, forms in names.items()},
            {pid: str(data.get("status")) for pid, data in raw.items()},
        )

    def mentions(self, text: str) -> list[Mention]:
        """Programmes named in `text`, in order of appearance (each once)."""
        folded = f" {fold(text)} "
        taken = [False] * len(folded)
        found: dict[str, int] = {}
        for key, program_id in self._keys:
            start = 0
            needle = f" {key} "
            while (index := folded.find(needle, start)) >= 0:
                span = range(index + 1, index + 1 + len(key))
                if not any(taken[i] for i in span):
                    for i in span:
                        taken[i] = True
                    found[program_id] = min(found.get(program_id, index), index)
                start = index + 1
        return [Mention(pid, pos) for pid, pos in sorted(found.items(), key=lambda p: p[1])]

    def program_ids(self, text: str) -> list[str]:
        return [m.program_id for m in self.mentions(text)]
