"""Number words in French, Darija (Arabic script) and Arabizi: one home for both readings.

- Choices: "the second one" of a numbered list ("2", "٢", "jouj", "deux", "جوج"), read from
  a reply folded at the "choice" level (`choice_number`).
- Quantities: cardinal numbers ("vingt-deux", "khamsa w 3chrin", "خمسة وعشرين"), thousands,
  millions and halves, written as the "profile" fold leaves them (`number_value`;
  `bot.orientation.profile_answers` adds them up and multiplies them).
"""

from __future__ import annotations

# ---------------------------------------------------------------- choices

CHOICE_WORDS = {
    1: ("1", "١", "wa7ed", "wahed", "wa7d", "un", "une", "واحد", "الأول", "lowel", "premier"),
    2: ("2", "٢", "jouj", "jooj", "jouje", "zouj", "deux", "جوج", "زوج", "tani", "التاني"),
    3: ("3", "٣", "tlata", "tleta", "trois", "تلاتة", "ثلاثة", "تلاثة"),
    4: ("4", "٤", "reb3a", "rab3a", "quatre", "ربعة", "أربعة"),
    5: ("5", "٥", "khamsa", "cinq", "خمسة"),
    6: ("6", "٦", "setta", "sitta", "six", "ستة"),
    7: ("7", "٧", "seb3a", "sept", "سبعة"),
    8: ("8", "٨", "tmenya", "huit", "تمنية"),
    9: ("9", "٩", "tes3ood", "neuf", "تسعة"),
    10: ("10", "١٠", "3achra", "dix", "عشرة"),
}
_CHOICE_OF_WORD = {word: number for number, words in CHOICE_WORDS.items() for word in words}


def choice_number(said: str, most: int | None = None) -> int | None:
    """The number of the choice a folded reply names ("jouj" → 2), or None; with `most`,
    only choices up to that number count."""
    number = _CHOICE_OF_WORD.get(said)
    if number is None or (most is not None and number > most):
        return None
    return number


# ---------------------------------------------------------------- quantities

NUMBER_VALUES = {
    # French
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100, "cents": 100,
    # Darija, Latin letters
    "wa7ed": 1, "wahed": 1, "jouj": 2, "jooj": 2, "zouj": 2, "tnin": 2, "tlata": 3,
    "tlat": 3, "rb3a": 4, "reb3a": 4, "arba3a": 4, "khamsa": 5, "5amsa": 5, "setta": 6,
    "sta": 6, "sb3a": 7, "seb3a": 7, "tmnya": 8, "tmenya": 8, "tmanya": 8, "tes3a": 9,
    "ts3ud": 9, "tes3ud": 9, "3achra": 10, "3ashra": 10, "3chra": 10, "7dach": 11,
    "hdach": 11, "tnach": 12, "tnash": 12, "tlettach": 13, "teltach": 13, "rb3tach": 14,
    "rbe3tach": 14, "khmstach": 15, "khamstach": 15, "settach": 16, "sttach": 16,
    "sb3tach": 17, "sbe3tach": 17, "tmntach": 18, "tmentach": 18, "ts3tach": 19,
    "tsa3tach": 19, "3chrin": 20, "3ichrin": 20, "3echrin": 20, "3ochrin": 20,
    "3achrin": 20, "tlatin": 30, "tlatine": 30, "rb3in": 40, "arb3in": 40, "rb3ine": 40,
    "khamsin": 50, "5amsin": 50, "khemsin": 50, "settin": 60, "sttin": 60, "sb3in": 70,
    "seb3in": 70, "tmanin": 80, "tmanine": 80, "tes3in": 90, "ts3in": 90, "mya": 100,
    "miya": 100, "meya": 100, "mitin": 200,
    # Darija / Arabic, Arabic script (normalised: ة -> ه, أ -> ا)
    "واحد": 1, "جوج": 2, "زوج": 2, "اثنين": 2, "ثنين": 2, "تلاته": 3, "ثلاثه": 3,
    "ربعه": 4, "اربعه": 4, "خمسه": 5, "سته": 6, "سبعه": 7, "تمنيه": 8, "ثمانيه": 8,
    "تسعه": 9, "عشره": 10, "حضاش": 11, "طناش": 12, "تلطاش": 13, "ربعطاش": 14,
    "خمسطاش": 15, "سطاش": 16, "سبعطاش": 17, "تمنطاش": 18, "تسعطاش": 19, "عشرين": 20,
    "تلاتين": 30, "ثلاثين": 30, "ربعين": 40, "اربعين": 40, "خمسين": 50, "ستين": 60,
    "سبعين": 70, "تمانين": 80, "ثمانين": 80, "تسعين": 90, "ميه": 100, "مئه": 100,
    "متين": 200,
}  # fmt: skip
THOUSANDS = {"alf", "alaf", "alef", "lalf", "mille", "milles", "k", "الف", "الاف", "لاف", "آلاف"}
MILLIONS = {
    "million", "millions", "melyoun", "melyon", "mlyoun", "mlyon", "malyoun", "mlayn",
    "mlayen", "mliyoun", "m", "مليون", "ملايين", "ملاين",
}  # fmt: skip
HALVES = {"nss", "nos", "nous", "ns", "demi", "demie", "نص", "ونص"}


def number_value(word: str) -> int | None:
    """The value of a number word ("khamsa" → 5), also with an attached "and"."""
    if word in NUMBER_VALUES:
        return NUMBER_VALUES[word]
    for prefix in ("w", "و"):  # "w3chrin", "وعشرين": attached "and"
        if word.startswith(prefix) and word[len(prefix) :] in NUMBER_VALUES:
            return NUMBER_VALUES[word[len(prefix) :]]
    return None
