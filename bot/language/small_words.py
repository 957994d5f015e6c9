"""Words that need no model: small words ("ok", "wakha", "merci", "👍"), a question about
one's data ("mes données ?"), a bare number typed after a numbered list.

Shared by the dialogue policy (bot/nlu/conversation.py, in the Rasa server) and the actions
(bot/actions/conversation.py), so both read a message the same way. Matching is on the
"nlu" fold (case, accents, Arabic letter variants, "okkkk").
"""

from __future__ import annotations

import re

from bot.language.folding import fold

# Small words: a message made only of these (folded), emoji and punctuation.
_SMALL_WORDS = """
    ok okay oki okey okk dac daccord d accord merci mrc mercii thanks thank you thx top
    super parfait cool genial bien tres tbien ah ih iyeh eh oui ouais wi ah wah wakha waxa
    wkha wakhaa accord d chokran choukran choukrane chokrane shukran chkran chokrn safi saafi
    mzyan mzian mezyan mezian zwin nice bon beaucoup bcp bzaf bzzaf 3afak lah yjazik khir baraka
    allah ybarek fik hamdoullah hamdullah lhamdulillah tbarkallah
    اوك واخا شكرا شكرًا بزاف صافي مزيان مزيانة زوين ايه اه الله يجازيك خير بارك فيك الحمد لله
    تبارك ميرسي
    """
SMALL_WORDS = frozenset(fold(_SMALL_WORDS, "nlu").split())
_EMOJI_VARIATION = re.compile("[\ufe0f\u200d]")
SMALL_EMOJI = frozenset(_EMOJI_VARIATION.sub("", "👍👌🙏😊🙂😀😁❤️♥️✅🤝👏🥰😍🌹💯✌️🫡"))
# Words that go with a small word ("merci beaucoup", "chokran bzaf"), not alone.
MODIFIERS = frozenset(fold("bzaf bzzaf beaucoup bcp lah allah khir fik بزاف", "nlu").split())
SMALL_WORDS_MAX = 5  # words: "ok merci beaucoup", "ah mzyan chokran bzaf"

# "mes données ?", "chno katdir b les données dyali?", "شنو كديرو بالمعلومات ديالي؟"
_DATA_WORDS = re.compile(
    r"\b(donnees|donnee|data|confidentialite|vie privee|09 ?08|ma3loumat dyali|"
    r"lma3loumat dyali|les donnees dyali)\b|المعلومات ديالي|المعطيات|معطياتي|09-08"
)
_ERASE_WORDS = re.compile(
    r"\b(supprim\w*|effac\w*|ms7|mse7|mseh|ms7i|7ayd|7ydi|delete|efface)\b|امسح|مسح|حيد"
)

_BARE_NUMBER = re.compile(r"^\s*([1-9])\s*[.)]?\s*$")


def is_small_word(text: str) -> bool:
    """ok, wakha, merci, chokran, 👍, "ah mzyan", "safi", "ok merci 🙏"."""
    raw = _EMOJI_VARIATION.sub("", text or "").strip()
    if not raw:
        return False
    emoji = [char for char in raw if char in SMALL_EMOJI]
    words = words_of(raw)
    if len(words) > SMALL_WORDS_MAX or (not words and not emoji):
        return False
    if words and all(word in MODIFIERS for word in words):
        return False  # "bzaf", "beaucoup" alone answer something else
    return all(word in SMALL_WORDS for word in words)


def asks_about_data(text: str) -> bool:
    """A question about what Bousla does with their data (not a request to erase it)."""
    folded = fold(text or "", "nlu")
    return bool(_DATA_WORDS.search(folded)) and not _ERASE_WORDS.search(folded)


def typed_number(text: str) -> int | None:
    found = _BARE_NUMBER.match(text or "")
    return int(found.group(1)) if found else None


THANKS = frozenset(
    fold(
        "merci mrc mercii thanks thank thx chokran choukran choukrane chokrane shukran "
        "chkran chokrn شكرا ميرسي يجازيك yjazik baraka",
        "nlu",
    ).split()
)


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text or "", "nlu"))


def says_thanks(text: str) -> bool:
    return any(word in THANKS for word in words_of(text))


_ORDINALS = (
    (1, r"premier|premiere|1er|1ere|lowel|lowla|lawal|louwel|الاول|اللول|لول"),
    (2, r"deuxieme|second|seconde|2eme|2e|التاني|الثاني|التانية|الثانية"),
    (3, r"troisieme|3eme|3e|talet|talta|talt|التالت|الثالث|التالتة|الثالثة"),
)
_NUMBERED = re.compile(r"(?:numero|num|n|ra9m|raqm|رقم)\s*([1-9])\b")
ORDINAL_MAX_WORDS = 8


def item_number(text: str) -> int | None:
    """The item of a list a short message points at: "2", "le premier", "numéro 3",
    "tani", "الأول"."""
    number = typed_number(text)
    if number is not None:
        return number
    words = words_of(text)
    if not words or len(words) > ORDINAL_MAX_WORDS:
        return None
    folded = " ".join(words)
    found = _NUMBERED.search(folded)
    if found:
        return int(found.group(1))
    for value, pattern in _ORDINALS:
        if re.search(rf"(?:^|\s)(?:{pattern})(?:\s|$)", folded):
            return value
    return None


# Words that ask how to apply, which papers or where ("et on s'inscrit où ?").
_APPLY = re.compile(
    r"\b(postul\w*|inscri\w*|papiers?|dossier|documents?|candidat\w*|ntsjel|tsjel|"
    r"nsjel|ntsajel|ntrecha7|trecha7|wra9|lwra9|wraq|fin|fine|fayn|ou)\b|"
    r"نتسجل|نسجل|الوراق|الأوراق|اوراق|وراق|نترشح|فين"
)


def asks_how_to_apply(text: str) -> bool:
    return bool(_APPLY.search(fold(text or "", "nlu")))
