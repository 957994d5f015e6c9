"""Every reply exists in the three language variants, each in its own script; gendered
replies have a variant for everyone (gender unknown), one for a woman, one for a man."""

from __future__ import annotations

import re

import pytest

from bot.language import LANGUAGES

ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
# "{program_name}": filled at run time with text in the person's language, not shown as is.
PLACEHOLDER = re.compile(r"{[^{}\n]*}")


def arabic_share(text: str) -> float:
    text = PLACEHOLDER.sub("", text)
    arabic = len(ARABIC_LETTER.findall(text))
    latin = len(LATIN_LETTER.findall(text))
    return arabic / (arabic + latin) if arabic + latin else 0.0


def has_letters(text: str) -> bool:
    text = PLACEHOLDER.sub("", text)
    return bool(ARABIC_LETTER.search(text) or LATIN_LETTER.search(text))


def variant_texts(variant: dict) -> list[str]:
    texts = [variant.get("text", "")]
    texts += [button["title"] for button in variant.get("buttons", [])]
    return [t for t in texts if t]


def language_of(variant: dict) -> str | None:
    conditions = variant.get("condition") or []
    values = [c["value"] for c in conditions if c.get("name") == "language"]
    return values[0] if len(values) == 1 else None


GENDERS = (None, "f", "m")  # the slot `gender`: unknown until the person's words say it


def gender_of(variant: dict) -> str | None:
    conditions = variant.get("condition") or []
    return next((c["value"] for c in conditions if c.get("name") == "gender"), None)


def has_gender_condition(variant: dict) -> bool:
    return any(c.get("name") == "gender" for c in variant.get("condition") or [])


def test_every_response_has_exactly_the_three_variants(domain):
    """One variant per language, or, for a gendered reply in a language, exactly three:
    gender unknown (null), f and m, so that one and only one variant ever matches."""
    problems = []
    for name, variants in domain["responses"].items():
        languages = sorted({str(language_of(v)) for v in variants})
        if languages != sorted(LANGUAGES):
            problems.append(f"{name}: variants {languages}, expected {sorted(LANGUAGES)}")
        for language in LANGUAGES:
            mine = [v for v in variants if language_of(v) == language]
            if len(mine) == 1 and not has_gender_condition(mine[0]):
                continue
            genders = sorted(str(gender_of(v)) for v in mine)
            if not all(map(has_gender_condition, mine)) or genders != sorted(map(str, GENDERS)):
                problems.append(f"{name} [{language}]: gender variants {genders}")
    assert not problems, "\n".join(problems)


def test_no_reply_says_a_gender_the_person_did_not_say(domain):
    """Until the slot `gender` is set, replies fit everyone (or give both forms, "allé(e)",
    "saken/sakna"); the f and m variants use only their own forms (issue 16, item 7)."""
    from bot.ops.conversations.checks import gender_problem

    problems = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            for text in variant_texts(variant):
                problem = gender_problem(text, gender_of(variant))
                if problem:
                    problems.append(f"{name} [{language_of(variant)}]: {problem}: {text!r}")
    assert not problems, "\n".join(problems)


def test_the_counsellors_ready_made_replies_fit_everyone():
    """The dashboard's ready-made replies (centre.yml) do not know the person's gender."""
    from bot.centre import load_centre
    from bot.ops.conversations.checks import gender_problem

    problems = []
    for reply in load_centre().canned_replies:
        for language in LANGUAGES:
            text = getattr(reply, language)
            if gender_problem(text, None):
                problems.append(f"{reply.title} [{language}]: {gender_problem(text, None)}")
    assert not problems, "\n".join(problems)


def test_each_variant_is_written_in_its_script(domain):
    problems = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            language = language_of(variant)
            for text in variant_texts(variant):
                if not has_letters(text):
                    continue  # only emoji and variables: the same in every script
                share = arabic_share(text)
                if language == "ary" and share < 0.75:
                    problems.append(f"{name} [ary] is not in Arabic script: {text!r}")
                if language in ("fr", "ary_latn") and share > 0.0:
                    problems.append(f"{name} [{language}] is not in Latin script: {text!r}")
    assert not problems, "\n".join(problems)


def test_buttons_are_the_same_in_every_language(domain):
    """Translating a reply must not change what its buttons do."""
    for name, variants in domain["responses"].items():
        payloads = {language_of(v): [b["payload"] for b in v.get("buttons", [])] for v in variants}
        assert len({tuple(p) for p in payloads.values()}) == 1, name


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ana hna", 0.0), ("أنا هنا", 1.0), ("🙂", 0.0), ("مهم: {caution}", 1.0)],
)
def test_arabic_share(text, expected):
    assert arabic_share(text) == expected
