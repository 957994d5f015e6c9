"""Reading a young person's answers to the profile questions (plain Python, no Rasa).

Answers come in French, Darija in Arabic script and Darija in Latin letters (Arabizi, where
3=ع 7=ح 9=ق 2=ء 5=خ), with Latin or Arabic-Indic digits: "22 ans", "3andi 22 3am",
"عندي 22 عام", "٢٢", "bac+2", "ma 9ritch", "mazal kan9ra", "5 melyoun", "50 alf".

Each `parse_<field>(text)` returns an `Answer`:
- `Answer(value)`: understood, `value` is the code the catalogue and `bot.orientation.matching` use
  (age in years, amount in DH, education none|primary|...|bac+5, ...);
- `UNKNOWN`: the person does not know or wants to skip ("je sais pas", "skip", "ma3rftch");
- `NOT_UNDERSTOOD`: anything else (including out-of-range numbers: age -3 or 200).

Money in Darija is often counted in centimes: "5 melyoun" (5 million centimes) is 50,000 DH,
"100 alf ryal" (100,000 rials of 5 centimes) is 5,000 DH. "1 million de dirhams", with the
currency said, is 1,000,000 DH.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.catalog.schema import EDUCATION_LEVELS, PROJECT_STAGES, SECTORS, SITUATIONS
from bot.language.folding import fold, fold_letters
from bot.language.numbers import HALVES, MILLIONS, THOUSANDS, number_value
from bot.orientation.geography import default_geography

AGE_RANGE = (10, 99)  # anything else is a typo or a joke: asked again
AMOUNT_RANGE = (1_000, 50_000_000)  # DH; 0 ("walo", "rien") is also accepted
GOALS = ("job", "training", "project", "financing")


@dataclass(frozen=True)
class Answer:
    value: Any = None
    unknown: bool = False  # "je sais pas" / "skip": leave the question, do not insist

    @property
    def understood(self) -> bool:
        return self.value is not None


NOT_UNDERSTOOD = Answer()
UNKNOWN = Answer(unknown=True)


# Arabic words often carry a prefix: و (and), ف (in), ب (with), ل / ال (to, the).
_AR = r"(?:و|ف|ب|ل|فال|بال|وال|لل|ال)?"


def _words(*alternatives: str) -> re.Pattern[str]:
    """One regex matching any of the alternatives as whole words (regex syntax allowed).

    Arabic alternatives are normalised like the answers (ة -> ه...) and accept the
    attached prefixes of _AR ("الخياطة", "فالدار").
    """
    normalised = [
        _AR + fold_letters(alt, "profile") if "\u0600" <= alt[:1] <= "\u06ff" else alt
        for alt in alternatives
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(normalised) + r")(?!\w)")


# ------------------------------------------------------------------ "I don't know" / "skip"
# Phrases that say "I don't know" anywhere in the message...
_UNKNOWN = _words(
    # French
    r"(?:je )?(?:ne )?(?:sais|sait|sai) pas",
    r"j'?sais pas",
    r"jsp",
    r"chai pas",
    r"aucune idee",
    r"pas d'?idee",
    r"(?:je )?(?:ne )?(?:suis )?pas sure?",
    r"je (?:ne )?(?:veux|prefere) pas (?:le )?(?:dire|repondre)",
    # Darija, Latin letters
    r"ma ?3[aeo]?r[aeo]?f[te]*ch",
    r"ma ?n3r[ae]?f(?:ch)?",
    r"ma ?3a?ndi(?:ch)? (?:hta |7ta )?fikra",
    r"ma ?bghitch ng[oe]?u?l",
    # Darija, Arabic script
    r"ما ?عرفتش",
    r"معرفتش",
    r"ما ?عرفش",
    r"ما ?نعرف(?:ش)?",
    r"منعرف",
    r"ما ?عندي(?:ش)? (?:حتى )?فكره",
    r"ما ?بغيتش نقول",
    r"لا اعرف",
)
# ... and words that mean "skip this question" when they are the whole message
# ("je passe le bac" is not a skip).
_SKIP = re.compile(
    r"(?:skip|next|passe[rz]?|je passe|on passe|suivante?|question suivante|"
    r"d[oe]?wz|douz|fout|3[ae]dda|دوز|فوت|عدي)[ !.]*"
)


def says_unknown(text: str) -> bool:
    """True for "je sais pas", "skip", "ma3rftch", "ما عرفتش"... (any script)."""
    cleaned = fold(text, "profile")
    return bool(_UNKNOWN.search(cleaned) or _SKIP.fullmatch(cleaned))


# ------------------------------------------------------------------ numbers
_RIAL = {"ryal", "rial", "riyal", "ryala", "ريال", "ريالات"}
_DIRHAM = {"dh", "dhs", "mad", "dirham", "dirhams", "drahm", "derham", "درهم", "دراهم"}
_CENTIMES = {"centimes", "centime", "cts", "سنتيم", "سانتيم", "franc", "frank"}
_CONNECTORS = {"et", "w", "o", "و"}
_FILLERS = {"de", "d", "dyal", "dial", "ديال", "des"}
_AGE_UNITS = {"ans", "an", "3am", "3am.", "snin", "sna", "عام", "سنه", "سنين", "سنوات", "years"}
_NOTHING = _words(r"walo", r"wal[ou]", r"والو", r"rien", r"0", r"zero", r"sifr", r"صفر")

_TOKEN = re.compile(
    r"(?P<sign>-\s?)?"
    r"(?P<num>\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d))"
    r"(?P<suffix>[^\W\d_]*)"
    r"|(?P<word>\w+)"
)


@dataclass
class _Quantity:
    value: float
    words: list[str]  # the unit words that followed (ans, alf, dh...)
    from_digits: bool


def _tokens(text: str) -> list[tuple[str, Any]]:
    """("num", value) | ("word", word): digits may carry a unit suffix ("22ans", "50k").

    Digits glued to other letters are Arabizi letters, not numbers ("3andi", "3am", "7ta").
    """
    tokens: list[tuple[str, Any]] = []
    for found in _TOKEN.finditer(text):
        if found.group("word") is not None:
            word = found.group("word")
            if word.startswith("_") or word.isdigit():
                continue
            tokens.append(("word", word))
            continue
        start = found.start("num")
        if start > 0 and (text[start - 1].isalpha() or text[start - 1].isdigit()):
            tokens.append(("word", found.group(0)))  # "f3in", "b2": part of a word
            continue
        suffix = found.group("suffix")
        known_suffixes = THOUSANDS | MILLIONS | _RIAL | _DIRHAM | _AGE_UNITS
        if suffix and suffix not in known_suffixes:
            tokens.append(("word", found.group(0).strip("- ")))  # "3am", "3andi": Arabizi
            continue
        raw = found.group("num")
        if re.fullmatch(r"\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+", raw):
            value: float = int(re.sub(r"\D", "", raw))
        else:
            value = float(raw.replace(",", "."))
        if found.group("sign"):
            value = -value
        tokens.append(("num", value))
        if suffix:
            tokens.append(("word", suffix))
    return tokens


def _quantities(text: str) -> list[_Quantity]:
    """The numbers of the text, in order, each with the unit words that follow it.

    Number words are added up ("vingt-deux", "khamsa w 3chrin", "خمسة وعشرين"),
    then multiplied by what follows ("50 alf", "5 melyoun", "mya alf ryal").
    """
    tokens = _tokens(fold(text, "profile").replace("-", " - ").replace("+", " + "))
    found: list[_Quantity] = []
    i = 0
    while i < len(tokens):
        kind, item = tokens[i]
        word_value = number_value(item) if kind == "word" else None
        starts_with_multiplier = kind == "word" and (item in THOUSANDS | MILLIONS)
        half_of = (
            kind == "word"
            and item in HALVES
            and i + 1 < len(tokens)
            and tokens[i + 1][1] in THOUSANDS | MILLIONS  # "nss melyoun"
        )
        if kind != "num" and word_value is None and not starts_with_multiplier and not half_of:
            i += 1
            continue
        if half_of:
            value, from_digits = 0.5, False
            i += 1
        elif kind == "num":
            value, from_digits = float(item), True
            i += 1
        elif word_value is not None:
            value, from_digits, previous = 0.0, False, None
            while i < len(tokens):
                k, w = tokens[i]
                n = number_value(w) if k == "word" else None
                if n is not None:
                    if n == 100 and previous is not None and previous < 10:
                        value = value - previous + previous * 100  # "deux cents"
                    elif n == 20 and previous == 4:
                        value = value - 4 + 80  # "quatre-vingt"
                    else:
                        value += n
                    previous = n
                    i += 1
                elif k == "word" and (w in _CONNECTORS or w == "-") and i + 1 < len(tokens):
                    nk, nw = tokens[i + 1]
                    if nk == "word" and number_value(nw) is not None:
                        i += 1
                        continue
                    break
                else:
                    break
        else:
            value, from_digits = 1.0, False  # "melyoun", "alf" on their own
        words: list[str] = []
        while i < len(tokens) and tokens[i][0] == "word" and len(words) < 6:
            w = tokens[i][1]
            if w in THOUSANDS | MILLIONS | _RIAL | _DIRHAM | _CENTIMES | HALVES | _AGE_UNITS:
                words.append(w)
            elif w in _CONNECTORS or w in _FILLERS:
                pass
            else:
                break
            i += 1
        found.append(_Quantity(value, words, from_digits))
    return found


def _in_dirhams(quantity: _Quantity) -> float:
    """The amount in DH, reading multipliers and currencies as Moroccans say them."""
    value, words = quantity.value, quantity.words
    dirhams_said = any(w in _DIRHAM for w in words)
    result, last_multiplier = value, 1.0
    for w in words:
        if w in THOUSANDS:
            result *= 1_000
            last_multiplier = 1_000
        elif w in MILLIONS:
            # "5 melyoun" = 5 million centimes = 50,000 DH, unless dirhams are said.
            factor = 1_000_000 if dirhams_said else 10_000
            result *= factor
            last_multiplier = factor
        elif w in HALVES:
            result += 0.5 * last_multiplier if last_multiplier > 1 else 0.5
    if any(w in _RIAL for w in words):
        result *= 0.05  # a rial is 5 centimes
    elif any(w in _CENTIMES for w in words) and not any(w in MILLIONS for w in words):
        result /= 100
    return result


def parse_age(text: str, today: date | None = None) -> Answer:
    """Age in years: "22", "22 ans", "3andi 22 3am", "عندي 22 عام", "٢٢", "vingt-deux",
    a birth year ("née en 2004"). Outside AGE_RANGE (-3, 200): not understood."""
    if text is None:
        return NOT_UNDERSTOOD
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        quantities = [_Quantity(float(text), [], True)]
    else:
        quantities = _quantities(str(text))
    candidates = [
        q for q in quantities if not any(w in THOUSANDS | MILLIONS | _DIRHAM for w in q.words)
    ]
    if not candidates:
        return UNKNOWN if says_unknown(str(text)) else NOT_UNDERSTOOD
    with_unit = [q for q in candidates if any(w in _AGE_UNITS for w in q.words)]
    chosen = (with_unit or candidates)[0]
    age = int(chosen.value)
    year = (today or date.today()).year
    if 1900 <= age <= year:  # a birth year
        age = year - age
    low, high = AGE_RANGE
    return Answer(age) if low <= age <= high else NOT_UNDERSTOOD


def parse_amount(text: str) -> Answer:
    """Amount needed in DH: "50000", "50 000 dh", "50 alf", "5 melyoun", "50k",
    "خمسين ألف", "1 million de dirhams", "walo" (0). A range gives its upper bound."""
    if text is None:
        return NOT_UNDERSTOOD
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        amounts = [float(text)]
    else:
        quantities = [q for q in _quantities(str(text)) if q.value >= 0]
        amounts = [_in_dirhams(q) for q in quantities]
        if not amounts and _NOTHING.search(fold(str(text), "profile")):
            return Answer(0)
    if not amounts:
        return UNKNOWN if says_unknown(str(text)) else NOT_UNDERSTOOD
    amount = int(round(max(amounts)))
    low, high = AMOUNT_RANGE
    if amount == 0 or low <= amount <= high:
        return Answer(amount)
    return NOT_UNDERSTOOD


# ------------------------------------------------------------------ closed questions
Rules = list[tuple[str, re.Pattern[str]]]

_EDUCATION: Rules = [
    ("bac+5", _words(r"bac ?\+ ?[5-8]", r"master", r"mastere", r"ماستر", r"الماستر",
                     r"ingenieure?", r"mohandis", r"مهندس", r"doctorat", r"دكتوراه", r"phd",
                     r"bac5")),
    ("bac+3", _words(r"bac ?\+ ?[34]", r"licence(?: pro)?", r"license", r"ijaza", r"lijaza",
                     r"ليسانس", r"اجازه", r"bachelor", r"bac3")),
    ("bac+2", _words(r"bac ?\+ ?[12]", r"bts", r"dut", r"deug", r"deust", r"dts",
                     r"technicien specialisee?", r"ts", r"تقني متخصص", r"technicien spe",
                     r"bac2")),
    ("lycee", _words(r"sans (?:le )?bac", r"pas (?:eu |obtenu )?(?:le |mon )?bac",
                     r"ma (?:khditch|khdtch|jbtch|jebtch|dditch|nj7tch|nje7tch)(?: f)? ?l?bac",
                     r"ما (?:خديتش|جبتش|نجحتش|ديتش)(?: ف)? ?ال?باك", r"niveau bac",
                     r"lycee", r"lyceen(?:ne)?", r"tronc commun",
                     r"[12](?:ere|er|e|eme)? annee bac", r"premiere annee bac", r"seconde",
                     r"(?:je )?(?:passe|prepare) (?:le |mon )?bac", r"kan?douz l?bac",
                     r"كندوز الباك", r"thanawi", r"tanawi", r"ثانوي",
                     r"الثانوي", r"تاهيلي", r"التاهيلي", r"الليسي", r"lisi", r"llisi")),
    ("bac", _words(r"l?bac", r"bac pro", r"baccalaureat", r"bachelier(?:e)?", r"bakalorya",
                   r"bakaloria", r"l?bak", r"باك", r"باكالوريا", r"بكالوريا", r"باكلوريا")),
    ("college", _words(r"college", r"collegien(?:ne)?", r"i3dadi", r"e3dadi", r"3dadi",
                       r"اعدادي", r"الاعدادي", r"[3-9](?:e|eme|em) ?(?:annee)?(?: college)?",
                       r"kolij", r"كوليج")),
    ("primary", _words(r"primaire", r"ibtida2i", r"ibtidai", r"ebtida2i", r"ابتدائي",
                       r"الابتدائي", r"cm[12]", r"ce[12]", r"l?msid", r"lmadrasa lwla")),
    ("none", _words(r"ma ?9rit(?:ch)?", r"ma ?9rina?ch", r"ma ?9ritch walo",
                    r"ما ?قريتش", r"ما ?قريت", r"ماقريتش", r"jamais (?:ete|alle|allee)",
                    r"(?:pas|jamais) (?:ete|alle|allee) a l'?ecole", r"pas d'?ecole",
                    r"aucun niveau", r"sans niveau", r"pas de niveau", r"analphabete",
                    r"ma ?mchitch l ?l?(?:m?adrasa|ecole)", r"ما ?مشيتش ل?لمدرسه",
                    r"ma ?dkhltch l ?l?(?:m?adrasa|ecole)", r"ما ?دخلتش ل?لمدرسه",
                    r"walo", r"والو", r"aucun", r"none")),
]  # fmt: skip

# "ma kan9ra ma kankhdem", "la kan9ra la kankhdem", "ma kankhdemch w ma kan9rach" (NEET).
_NOT = r"(?:ma|la|lla) ?"
_AND_NOT = r",? (?:w |wla |ou |o )?(?:ma|la|lla|wla) ?"
_STUDYING = r"kan9raw?(?:ch)?"
_WORKING = r"(?:kan)?kh[ae]?dd?[ae]?mw?(?:ch)?"

_SITUATION: Rules = [
    # Neither studying nor working (NEET), in the three scripts: read before "kan9ra" (student)
    # and "kankhdem" (employed) can match one half of the sentence.
    ("not_in_school", _words(
        r"ni (?:etudes?|ecole|etudiante?|eleve|fac) ni (?:travail|emploi|boulot|job|salariee?)",
        r"(?:je )?(?:ne )?(?:travaille|bosse) pas (?:et|ni) (?:je |j'? ?)?(?:n'? ?|ne )?"
        r"(?:etudie|vais a l'?ecole) pas",
        r"(?:je |j'? ?)?(?:n'? ?)?etudie pas (?:et|ni) (?:je )?(?:ne )?(?:travaille|bosse) pas",
        r"pas d'?(?:ecole|etudes?),? pas de (?:travail|boulot|job)",
        _NOT + _STUDYING + _AND_NOT + _WORKING,
        _NOT + _WORKING + _AND_NOT + _STUDYING,
        r"(?:la|bla) 9raya,? (?:w |wla )?(?:la|bla) (?:khdma|khedma|5edma)",
        r"(?:ما|لا) ?كنقرا(?:ش)?،? ?(?:و|ولا)? ?(?:ما|لا) ?كنخدم(?:ش)?",
        r"(?:ما|لا) ?كنخدم(?:ش)?،? ?(?:و|ولا)? ?(?:ما|لا) ?كنقرا(?:ش)?",
        r"(?:لا|بلا) قرايه،? ?(?:و|ولا)? ?(?:لا|بلا) خدمه",
        r"(?:je )?(?:ne )?(?:fais|fait) rien",
        r"ma ?kan9rach? (?:w|wla|ou) ma ?(?:kan)?khd[ae]?m(?:ch)?",
        r"ma ?kandir walo", r"ma ?kandir ta ?7aja", r"ما ?كندير والو", r"ما ?كندير حتى حاجه",
        r"ما ?كنقراش و ?ما ?كنخدمش", r"ما ?خدام[هة]? ما ?والو", r"ma ?khdd?ama? ma ?walo",
        # just left school (the bac, the collège...): out of school, not yet in work
        r"(?:je )?viens? d'?(?:avoir|obtenir|finir|terminer|passer) (?:mon |le |ma )?"
        r"(?:bac|baccalaureat|diplome|college|lycee|formation|etudes)",
        r"(?:j'?ai )?(?:fini|termine|quitte|arrete) (?:mes etudes|l'?ecole|le lycee|le college)",
        r"(?:3ad|yallah) (?:jbt|jebt|khdit|dditt?) l?bac", r"(?:عاد|يالاه) (?:جبت|خديت) الباك",
        r"sallit l?9raya", r"خرجت من القرايه", r"ساليت القرايه", r"not_in_school", r"neet")),
    # Working on one's own, and what people say of it ("kanbi3 f souk", "كنصلح البيسيات",
    # "je vends des gâteaux"): before the looser signs of NEET ("f dar", "à la maison"),
    # since a woman who sells pastries from home works.
    ("self_employed", _words(
        r"(?:a|pour) mon (?:propre )?compte", r"independante?", r"freelance", r"free lance",
        r"auto[- ]?entrepreneu(?:r|se)", r"autoentrepreneu(?:r|se)",
        r"(?:kankhdem|khddam|khdama|khddama) 3la rass?i", r"3la rass?i", r"على راسي",
        r"كنخدم على راسي", r"mon propre (?:commerce|business)",
        r"j'ai (?:mon|un|une) (?:commerce|atelier|magasin|boutique|entreprise)",
        r"kanbi3", r"kanbe3", r"kanbi3o", r"كنبيع", r"كنبيعو", r"je vends", r"on vend",
        r"kans?sa?le7", r"كنصلح", r"je repare", r"kansayb(?:e|o|ou)?",
        r"كنصايب", r"كنصاوب", r"je fabrique", r"self_employed", r"patron(?:ne)?")),
    # Looser signs of NEET: at home, nothing.
    ("not_in_school", _words(
        r"rien", r"a la maison", r"f ?dar", r"fdar", r"فالدار", r"gal[e3]s(?: f ?dar)?",
        r"gal[e3]a(?: f ?dar)?", r"جالس(?: فالدار)?", r"ka[nm]?g[ae]ls", r"walo", r"والو")),
    ("job_seeker", _words(
        r"chomage", r"chomeu(?:r|se)", r"sans (?:emploi|travail|boulot)",
        r"demandeu(?:r|se) d'?emploi", r"(?:je )?cherche (?:du |un )?(?:travail|emploi|boulot)",
        r"ma ?(?:kan)?kh[ae]?d[ae]?mch", r"ma ?khddamch", r"ma ?khdamach",
        r"bla ?(?:khdma|5edma|khedma)", r"ma ?3ndi(?:ch)? (?:khdma|5edma|khedma)",
        r"kan9l?[e]?b 3la (?:khdma|5edma|khedma)", r"3at[ie]?l", r"mo3att?al",
        r"معطل", r"عاطل", r"بلا خدمه", r"ما ?خدامش", r"ما ?كنخدمش", r"ما ?عنديش خدمه",
        r"ما ?عندي خدمه", r"كنقلب على خدمه", r"(?:je )?(?:ne )?travaille pas",
        r"pas de (?:travail|boulot)", r"ما ?خدام[هة]?", r"job_seeker")),
    ("student", _words(
        r"etudiante?", r"eleve", r"lyceen(?:ne)?", r"collegien(?:ne)?", r"stagiaire",
        r"(?:encore |toujours )?a l'?(?:ecole|universite|ofppt|fac)", r"a la fac",
        r"en (?:formation|licence|master|bts|1ere annee|2eme annee)", r"je fais des etudes",
        r"(?:mazal |ba9i )?kan9ra", r"mazal ?ta9ra", r"kat9ra", r"kan9raw", r"talib(?:a)?",
        r"tilmid(?:a)?", r"طالب", r"طالبه", r"تلميذ", r"تلميذه", r"(?:مازال |باقي )?كنقرا",
        r"student")),
    ("employed", _words(
        r"je travaille", r"travaille", r"salariee?", r"employee?", r"ouvriere?",
        r"fonctionnaire", r"cdi", r"cdd", r"j'ai (?:un|du) (?:travail|emploi|boulot|job)",
        r"kankhd[ae]m", r"khdd?am", r"khdd?ama", r"kankhdem f", r"خدام", r"خدامه", r"كنخدم",
        r"موظف", r"employed")),
    ("not_in_school", _words(r"ma ?kan9rach?", r"ما ?كنقراش", r"(?:je )?(?:n')?etudie pas")),
]  # fmt: skip

_GOAL: Rules = [
    ("financing", _words(r"financements?", r"financer", r"tamwil", r"tamouil", r"تمويل",
                         r"argent", r"flo?u?s", r"فلوس", r"pret", r"credit", r"9ard",
                         r"9rd", r"قرض", r"subvention", r"dwa?yer", r"financing")),
    ("project", _words(r"projet", r"machrou3", r"mchrou3", r"mashrou3", r"مشروع",
                       r"entreprise", r"business", r"startup", r"start-up", r"creer",
                       r"project", r"cooperative", r"l?ta3a?wniya", r"l?t3a?wniya",
                       r"تعاونيه")),
    ("training", _words(r"formations?", r"former", r"apprendre", r"takwin", r"تكوين",
                        r"n?t3al?em", r"نتعلم", r"cours", r"diplome", r"etudes",
                        r"training", r"ofppt")),
    ("job", _words(r"travail", r"emploi", r"boulot", r"taf", r"job", r"khdma", r"5edma",
                   r"khedma", r"خدمه", r"nkhdem", r"نخدم", r"travailler")),
]  # fmt: skip

_STAGE: Rules = [
    ("idea", _words(r"idee", r"fikra", r"فكره", r"pas (?:encore )?commence",
                    r"(?:mazal|ba9i) ma ?bdit", r"(?:مازال|باقي) ما ?بديت", r"ma ?bditch",
                    r"ما ?بديتش", r"rien (?:n'est |de )?(?:encore )?(?:commence|lance)",
                    r"en tete", r"projet en tete", r"idea")),
    ("existing", _words(r"existe", r"existante?", r"deja (?:ouverte?|cree|creee|lance)",
                        r"ouverte? depuis", r"depuis (?:\d+|un|une|deux|trois) (?:ans?|annees?)",
                        r"societe", r"sarl", r"kayna? (?:mn|men)", r"7alla", r"7al",
                        r"مفتوح", r"كاينه? من", r"شركه", r"existing")),
    ("started", _words(r"commence", r"demarre", r"lance", r"en cours", r"debut", r"bdit",
                       r"bdina", r"بديت", r"بدينا", r"started")),
]  # fmt: skip

_SECTOR: Rules = [
    ("social_economy", _words(r"cooperatives?", r"association", r"economie sociale",
                              r"l?ta3a?wniy(?:a|at)", r"l?t3a?wniy(?:a|at)", r"تعاونيه",
                              r"تعاونيات", r"جمعيه", r"social_economy")),
    ("digital", _words(r"digital", r"numerique", r"informatique", r"web", r"site",
                       r"applications?", r"app", r"developpe?ment", r"developpeur",
                       r"graphisme", r"graphique", r"design", r"marketing", r"e-?commerce",
                       r"ma3lomiyat", r"معلوميات", r"انترنيت", r"internet", r"tech")),
    ("food", _words(r"snack", r"restaurant", r"resto", r"cafe", r"patisserie", r"boulangerie",
                    r"cuisine", r"traiteur", r"nourriture", r"alimentaire", r"msemen",
                    r"makla", r"ماكله", r"حلويات", r"7alawiyat", r"7loua", r"food",
                    r"l?7[ae]lwa", r"l?7lwa", r"ال?حلوه", r"gateaux?", r"halwa", r"couscous",
                    r"l?keskso", r"l?kesksou", r"كسكس", r"lkhobz", r"خبز", r"pain",
                    r"fast ?food", r"pizza", r"جبن", r"fromage", r"مطعم", r"كوزينه")),
    ("agriculture", _words(r"agri\w*", r"ferme", r"elevage", r"betail", r"poulets?",
                           r"poules?", r"vaches?", r"moutons?", r"chevres?", r"fla7a",
                           r"lfla7a", r"فلاحه", r"الفلاحه", r"serre", r"apiculture", r"miel",
                           r"3sel", r"عسل", r"tarbiya", r"تربيه", r"bgar", r"غنم", r"ghnem",
                           r"djaj", r"دجاج")),
    ("crafts", _words(r"artisanat", r"artisan", r"couture", r"tissage", r"broderie",
                      r"menuiserie", r"poterie", r"zellige", r"cuir", r"bijoux", r"textile",
                      r"l?kh[iy]{1,2}a?ta", r"l?khayata", r"l?5[iy]{1,2}a?ta", r"couturiere",
                      r"خياطه", r"الخياطه", r"نجاره", r"nejara", r"tarz", r"طرز",
                      r"sna3a ta9lidiya", r"صناعه تقليديه", r"crafts")),
    ("tourism", _words(r"tourisme", r"touristique", r"guide", r"hotel", r"maison d'?hotes?",
                       r"riad", r"siya7a", r"سياحه", r"tourism")),
    ("construction", _words(r"batiment", r"construction", r"btp", r"maconnerie",
                            r"plomberie", r"electricite", r"peinture", r"bni", r"بني",
                            r"بناء", r"lbni")),
    ("trade", _words(r"commerce", r"commercant", r"boutique", r"epicerie", r"magasin",
                     r"vente", r"vendre", r"hanout", r"7anout", r"حانوت", r"تجاره",
                     r"tijara", r"bi3 w chra", r"بيع", r"trade")),
    ("industry", _words(r"industrie", r"industriel", r"usine", r"fabrication", r"production",
                        r"معمل", r"industry")),
    ("services", _words(r"services?", r"coiffure", r"coiffeu(?:r|se)", r"esthetique",
                        r"beaute", r"nettoyage", r"reparation", r"livraison", r"transport",
                        r"taxi", r"pressing", r"lavage", r"garage", r"mecanique", r"7ellaq",
                        r"حلاق", r"call ?center", r"secretariat", r"beauty")),
]  # fmt: skip

# Entity values of the NLU data that are not catalogue codes.
_SECTOR_ALIASES = {
    "commerce": "trade",
    "beauty": "services",
    "transport": "services",
    "textile": "crafts",
}

_YES = _words(
    r"oui", r"ouais?", r"ok", r"okay", r"oki", r"d'?accord", r"dac", r"bien sur", r"vas[- ]?y",
    r"ah+", r"ih", r"iyeh", r"iyah", r"eyh", r"ayeh", r"wakha", r"waxa", r"wakhkha", r"yes",
    r"yep", r"si", r"na3am", r"ايه", r"اه", r"واخا", r"نعم", r"موافق", r"mwaf[e9]9?", r"اوكي?",
    r"affirm", r"true", r"👍", r"✅",
)  # fmt: skip
_NO = _words(
    r"non", r"nn", r"no", r"nope", r"pas d'?accord", r"la+", r"lla", r"لا", r"لالا",
    r"ma ?bghitch", r"ما ?بغيتش", r"refuse", r"jamais", r"deny", r"false", r"👎", r"❌",
)  # fmt: skip


def _closed(text: Any, rules: Rules, codes: Iterable[str], aliases: dict | None = None) -> Answer:
    if text is None:
        return NOT_UNDERSTOOD
    cleaned = fold(str(text), "profile")
    if cleaned in codes:
        return Answer(cleaned)
    if aliases and cleaned in aliases:
        return Answer(aliases[cleaned])
    if says_unknown(cleaned):
        return UNKNOWN
    for code, pattern in rules:
        if pattern.search(cleaned):
            return Answer(code)
    return NOT_UNDERSTOOD


def parse_education(text: str) -> Answer:
    """none | primary | college | lycee | bac | bac+2 | bac+3 | bac+5."""
    return _closed(text, _EDUCATION, EDUCATION_LEVELS)


def parse_situation(text: str) -> Answer:
    """student | job_seeker | employed | self_employed | not_in_school."""
    return _closed(text, _SITUATION, SITUATIONS)


def parse_goal(text: str) -> Answer:
    """job | training | project | financing."""
    return _closed(text, _GOAL, GOALS)


def parse_project_stage(text: str) -> Answer:
    """idea | started | existing."""
    return _closed(text, _STAGE, PROJECT_STAGES)


def parse_sector(text: str) -> Answer:
    """A sector of the catalogue (agriculture, crafts, trade, services, digital, ...)."""
    return _closed(text, _SECTOR, SECTORS, _SECTOR_ALIASES)


def find_sectors(text: str | None) -> list[str]:
    """Every sector a free text names, in the order of the rules ("bghit ndir ta3awniya
    dyal lkhyata" -> ["social_economy", "crafts"]); [] for None or nothing found."""
    if not text:
        return []
    cleaned = fold(str(text), "profile")
    return [code for code, pattern in _SECTOR if pattern.search(cleaned)]


def parse_commune(text: str) -> Answer:
    """A commune slug of bot/orientation/geography.yml ("3in 7rouda", "عين حرودة" ->
    ain-harrouda)."""
    if text is None:
        return NOT_UNDERSTOOD
    geography = default_geography()
    text = str(text)
    if text.strip() in geography.communes:
        return Answer(text.strip())
    if says_unknown(text):
        return UNKNOWN
    slug = geography.find_commune(text)
    return Answer(slug) if slug else NOT_UNDERSTOOD


def parse_yes_no(text: Any) -> Answer:
    """True for "oui", "wakha", "واخا"...; False for "non", "la", "لا"... (consent)."""
    if isinstance(text, bool):
        return Answer(text)
    if text is None:
        return NOT_UNDERSTOOD
    cleaned = fold(str(text), "profile")
    no, yes = bool(_NO.search(cleaned)), bool(_YES.search(cleaned))
    if no and not yes:
        return Answer(False)
    if yes and not no:
        return Answer(True)
    if says_unknown(cleaned):
        return UNKNOWN
    return NOT_UNDERSTOOD


PARSERS: dict[str, Callable[[Any], Answer]] = {
    "profile_consent": parse_yes_no,
    "age": parse_age,
    "education": parse_education,
    "situation": parse_situation,
    "goal": parse_goal,
    "commune": parse_commune,
    "project_stage": parse_project_stage,
    "sector": parse_sector,
    "amount": parse_amount,
}


def parse(field: str, text: Any) -> Answer:
    """The answer to the question about `field` (a key of PARSERS)."""
    return PARSERS[field](text)
