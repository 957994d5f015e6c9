"""Which catalogue programmes a message names: "kifach ntsjel f awrach?", "w forsa?",
"les papiers pour l'OFPPT", "فالأوراش", "chno hiya intilaka".

The names come from the catalogue itself (each programme's `name` and `aliases`), so a
programme added by staff is recognised at once, without retraining the NLU model. This is
why Bousla matches names at run time instead of generating Rasa lookup tables: lookups only
act after `make train`, and a staff edit must be live at the next message.

Matching is done on folded words, the same way for the message and for the names:

- any script: case, accents, Arabic harakat and letter variants (أ إ آ → ا, ة → ه, ى → ي),
  Arabic-Indic digits, emphasis ("forsaaa"), punctuation;
- Arabic script: a glued prefix is allowed on the first word of a name (و ف ب ل ك ال وال
  فال بال لل: "فالأوراش", "لفرصة", "والتدرج");
- Latin script: a glued "f", "l", "w", "b", "d", "fl", "bl", "wl" on the first word
  ("f awrach", "lforsa", "flofppt") and the French elisions ("l'ofppt", "d'awrach"); words of
  four letters or more are also compared by their Arabizi skeleton, so "intilaka",
  "intelaka", "intila9a" and "intilaqa", or "ta2hil" and "taehil", are the same word
  (7→h, 9/q→k, 3 and 2 dropped, doubled letters and vowels folded).

Aliases that are also ordinary words (`aliases.needs_context` in the programme's file,
e.g. "forsa" / "فرصة" = "a chance", "awrach" = "worksites") name the programme only:
1. when the message is the name and little else ("forsa", "w forsa?", "lforsa"), or
2. next to a programme word ("programme forsa", "barnamaj forsa", "برنامج فرصة",
   "forsa.ma"), or
3. in a question or a request about it ("chno hiya forsa?", "kifach ntsjel f awrach",
   "wach forsa mazal kayna"),
and never in ordinary use: after "chi", "wahd", "had", "شي", "واحد", "هاد" ("bghit chi forsa
dyal khdma") or followed by "dyal", "d", "de", "ديال" ("forsa dyal khdma").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.catalog.schema import Program
from bot.language import fold as fold_text

_ARABIC = re.compile(r"[\u0600-\u06ff]")
# Proclitics glued to an Arabic word, longest first; only stripped when 3 letters remain.
_ARABIC_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
# Latin letters glued to a name: f (in), l (the / to), w (and), b (with), d (of).
_LATIN_PREFIXES = ("fl", "bl", "wl", "f", "l", "w", "b", "d")
_SKELETON_MIN = 4  # shorter words ("ads", "e2c", "ofppt" is 5) only match exactly


def fold(text: str) -> str:
    """Lower case, no accents, no harakat, Arabic letter variants folded, single spaces."""
    return fold_text(text, "name")


def words(text: str) -> list[str]:
    return fold(text).split()


@lru_cache(maxsize=16384)
def skeleton(word: str) -> str:
    """An Arabizi / French spelling skeleton: "intila9a", "intelaka" -> "antalaka"."""
    return fold_text(word, "name_skeleton")


def _same_word(text_word: str, name_word: str) -> bool:
    if text_word == name_word:
        return True
    return (
        len(text_word) >= _SKELETON_MIN
        and len(name_word) >= _SKELETON_MIN
        and not _ARABIC.search(text_word + name_word)
        and skeleton(text_word) == skeleton(name_word)
    )


@lru_cache(maxsize=16384)
def _without_prefix(word: str) -> tuple[str, ...]:
    """The word, then the word without each glued prefix it may carry."""
    found = [word]
    prefixes = _ARABIC_PREFIXES if _ARABIC.search(word) else _LATIN_PREFIXES
    minimum = 3 if _ARABIC.search(word) else _SKELETON_MIN
    for prefix in prefixes:
        if word.startswith(prefix) and len(word) - len(prefix) >= minimum:
            found.append(word[len(prefix) :])
    return tuple(found)


def _name_words(name: str) -> tuple[str, ...]:
    """A name as folded words, an Arabic article dropped from its first word."""
    parts = words(name)
    if parts and _ARABIC.search(parts[0]) and parts[0].startswith("ال") and len(parts[0]) > 4:
        parts[0] = parts[0][2:]
    return tuple(parts)


# ------------------------------------------------------------------ context words
# Words that make an ambiguous alias the programme's name (folded; Arabic without article).
PROGRAMME_WORDS = frozenset(
    words(
        "programme programmes prog program barnamaj lbarnamaj brnamj barnamij dispositif "
        "plateforme platforme site inscription projet برنامج البرنامج برامج منصه موقع"
    )
)
QUESTION_WORDS = frozenset(
    words(
        "chno chnou chnu chnahiya chnahowa ach achno wach wech kifach kifch kifech "
        "fin fayn finahiya 3lach imta fo9ach ch7al chhal "
        "quoi comment quand pourquoi combien "
        "شنو شنوهي شنوهو اش اشنو واش كيفاش فين فينا علاش امتى فوقاش شحال كيف ماهو ماهي "
        "هل"
    )
)
# Words about a programme rather than an ordinary thing: joining, papers, hearing of it.
REQUEST_WORDS = frozenset(
    words(
        "ntsjel ntsjl nsjel nsjjel tsjel tsjjel tsajal tsjil tasjil inscri inscrire inscris "
        "inscription postuler candidater candidature papiers papier documents dossier wraq "
        "lwra9 lwraq wra9 ma3loumat infos info informations details sm3t smat entendu "
        "parler ouvert ouverte mftouha mfto7a "
        "نتسجل نسجل تسجل التسجيل وراق الاوراق معلومات سمعت مفتوحه"
    )
)
# Right before an ambiguous alias, these make it an ordinary word ("chi forsa", "شي فرصة").
ORDINARY_BEFORE = frozenset(
    words(
        "chi ch wahd wa7ed wahed had hadi hadik ay kol une cette bonne شي واحد هاد هادي هاذ اي كل"
    )
)
# Right after it, these too ("forsa dyal khdma", "فرصة ديال الخدمة", "awrach dyal lbni").
ORDINARY_AFTER = frozenset(words("dyal dial d de du des ديال د"))
# Words that may stand around a name in a message that is "just the name".
FILLERS = frozenset(
    words(
        "w o ou et wa و and ah ok okey wakha salam slm bonjour merci chokran svp 3afak "
        "3fak please عافاك شكرا سلام اه واخا hh hhh lol"
    )
)
SHORT_MESSAGE = 0  # "just the name": no other word than fillers ("w forsa?", "lforsa")


@dataclass(frozen=True)
class NameEntry:
    program_id: str
    words: tuple[str, ...]
    needs_context: bool


@dataclass(frozen=True)
class Mention:
    """A programme named in a message: which one, where (word indexes), by which name."""

    program_id: str
    start: int
    end: int
    name: str


def program_names(program: Program) -> list[str]:
    """Every name of a programme: its id (as words), its name and its aliases."""
    names = [program.id.replace("-", " ")]
    names += [program.name.fr, program.name.ary, program.name.ary_latn]
    names += program.aliases.all()
    return names


@dataclass(frozen=True)
class _NameIndex:
    """A catalogue's names (longest first) and, by the keys of their first word (the
    word, and its skeleton when skeletons compare), the positions of those names."""

    entries: tuple[NameEntry, ...]
    by_first_word: dict[str, tuple[int, ...]]


def _word_keys(word: str) -> tuple[str, ...]:
    """Keys under which `_same_word` can find `word`: itself, and its skeleton."""
    if len(word) >= _SKELETON_MIN and not _ARABIC.search(word):
        return (word, "~" + skeleton(word))
    return (word,)


# The index of the last catalogues seen: folding every name costs more than a turn's NLU,
# and the catalogue changes only when staff edit it (a new snapshot, new objects).
_INDEXES: dict[tuple[int, ...], tuple[tuple[Program, ...], _NameIndex]] = {}
_INDEXES_KEPT = 8


def _name_index(programs: Iterable[Program]) -> _NameIndex:
    """Built once per catalogue snapshot (the cache holds the programmes, so the ids in
    its key stay theirs)."""
    programs = tuple(programs)
    key = tuple(map(id, programs))
    cached = _INDEXES.get(key)
    if cached is not None:
        return cached[1]
    entries = _name_entries(programs)
    by_first_word: dict[str, list[int]] = {}
    for position, entry in enumerate(entries):
        for word_key in _word_keys(entry.words[0]):
            by_first_word.setdefault(word_key, []).append(position)
    index = _NameIndex(entries, {k: tuple(v) for k, v in by_first_word.items()})
    while len(_INDEXES) >= _INDEXES_KEPT:
        _INDEXES.pop(next(iter(_INDEXES)), None)
    _INDEXES[key] = (programs, index)
    return index


def name_entries(programs: Iterable[Program]) -> tuple[NameEntry, ...]:
    """The names of the catalogue, longest first, deduplicated per programme."""
    return _name_index(programs).entries


def _name_entries(programs: tuple[Program, ...]) -> tuple[NameEntry, ...]:
    entries: dict[tuple[str, tuple[str, ...]], NameEntry] = {}
    for program in programs:
        # Spellings of an ambiguous alias are ambiguous too ("awrash", "ourach" for "awrach").
        ambiguous = {folded_name(alias) for alias in program.aliases.needs_context}
        for name in program_names(program):
            key = _name_words(name)
            if not key:
                continue
            entries[(program.id, key)] = NameEntry(program.id, key, folded_name(name) in ambiguous)
    return tuple(sorted(entries.values(), key=lambda e: (-len(e.words), e.program_id)))


def _match_at(text_words: list[str], start: int, entry: NameEntry) -> int | None:
    """End index if `entry` matches the message's words from `start`, else None."""
    end = start + len(entry.words)
    if end > len(text_words):
        return None
    first_ok = any(_same_word(w, entry.words[0]) for w in _without_prefix(text_words[start]))
    if not first_ok:
        return None
    for offset in range(1, len(entry.words)):
        if not _same_word(text_words[start + offset], entry.words[offset]):
            return None
    return end


def _neighbours(text_words: list[str], start: int, end: int) -> tuple[str | None, str | None]:
    """The words before and after a mention, skipping a separate article ("l", "el", "al")."""
    before_index = start - 1
    while before_index >= 0 and text_words[before_index] in ("l", "el", "al", "la", "le"):
        before_index -= 1
    before = text_words[before_index] if before_index >= 0 else None
    after = text_words[end] if end < len(text_words) else None
    return before, after


def _is_named(text: str, text_words: list[str], start: int, end: int, others: set[int]) -> bool:
    """For an ambiguous alias: is it the programme here (see the module's rules)?"""
    before, after = _neighbours(text_words, start, end)
    if (before in ORDINARY_BEFORE) or (after in ORDINARY_AFTER):
        return False
    rest = [
        word
        for index, word in enumerate(text_words)
        if not start <= index < end and index not in others and word not in FILLERS
    ]
    if len(rest) <= SHORT_MESSAGE and not any(w in ORDINARY_BEFORE for w in rest):
        return True
    window = text_words[max(0, start - 2) : start] + text_words[end : end + 2]
    if any(word in PROGRAMME_WORDS for near in window for word in _without_prefix(near)):
        return True
    if after == "ma" and ".ma" in text.lower():  # "forsa.ma"
        return True
    asked = "?" in text or "؟" in text
    return asked or any(
        word in QUESTION_WORDS or word in REQUEST_WORDS
        for text_word in text_words
        for word in _without_prefix(text_word)
    )


def find_mentions(text: str, programs: Iterable[Program]) -> list[Mention]:
    """Every programme named in `text`, in reading order (longest name wins on overlap)."""
    text_words = words(text)
    if not text_words:
        return []
    index = _name_index(programs)
    # (name position, start) of every name whose first word may stand at `start`, in the
    # order of a scan of all names (longest first) at every start.
    candidates = sorted(
        {
            (position, start)
            for start, text_word in enumerate(text_words)
            for variant in _without_prefix(text_word)
            for word_key in _word_keys(variant)
            for position in index.by_first_word.get(word_key, ())
        }
    )
    taken: set[int] = set()
    found: list[tuple[Mention, NameEntry]] = []
    for position, start in candidates:
        entry = index.entries[position]
        if any(i in taken for i in range(start, start + len(entry.words))):
            continue
        end = _match_at(text_words, start, entry)
        if end is None:
            continue
        found.append((Mention(entry.program_id, start, end, " ".join(entry.words)), entry))
        taken.update(range(start, end))
    mentions = []
    for mention, entry in found:
        others = {
            i for other, _ in found if other is not mention for i in range(other.start, other.end)
        }
        if entry.needs_context and not _is_named(
            text, text_words, mention.start, mention.end, others
        ):
            continue
        mentions.append(mention)
    return sorted(mentions, key=lambda m: m.start)


def find_programmes(text: str, catalog: Iterable[Program]) -> list[str]:
    """The ids of the programmes `text` names, in reading order, each once.

    `catalog` is a `Catalog` (or any iterable of programmes), closed ones included: a
    question about an ended programme is answered too
    (`bot.orientation.matching.describe_for_person`).

    >>> find_programmes("kifach ntsjel f awrach?", catalog)        # doctest: +SKIP
    ['awrach']
    >>> find_programmes("bghit chi forsa dyal khdma", catalog)     # doctest: +SKIP
    []
    """
    seen: list[str] = []
    for mention in find_mentions(text, catalog):
        if mention.program_id not in seen:
            seen.append(mention.program_id)
    return seen


def folded_name(name: str) -> tuple[str, ...]:
    """How a name is compared with others (validation: an alias shared by two programmes)."""
    return tuple(skeleton(word) for word in _name_words(name))
