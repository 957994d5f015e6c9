"""Words read without the model (bot/language/small_words.py): small words that never get
"I didn't understand", questions about one's data, a number typed after a list."""

from __future__ import annotations

import pytest

from bot.language.small_words import (
    asks_about_data,
    is_small_word,
    item_number,
    says_thanks,
    typed_number,
)


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "Okkk",
        "wakha",
        "merci",
        "chokran",
        "👍",
        "ah mzyan",
        "safi",
        "ok merci beaucoup",
        "شكرا",
        "واخا",
        "صافي",
        "d'accord",
        "ok chokran",
        "wakha chokran 🙏",
        "👌👌",
        "مزيان",
    ],
)
def test_small_words(text):
    assert is_small_word(text)


@pytest.mark.parametrize(
    "text",
    [
        "bghit khdma",
        "2",
        "",
        "ok bghit nhder m3a chi wa7ed",
        "merci, et pour l'OFPPT ?",
        "chno hiya forsa?",
        "3lach kat3awd tsowlni nafs l as2ila 😒",
    ],
)
def test_not_small_words(text):
    assert not is_small_word(text)


def test_thanks_among_small_words():
    assert says_thanks("ok merci") and says_thanks("شكرا") and not says_thanks("wakha")


@pytest.mark.parametrize(
    "text, asks",
    [
        ("mes données ?", True),
        ("chno katdir b les données dyali?", True),
        ("شنو كديرو بالمعلومات ديالي؟", True),
        ("supprime mes données", False),
        ("mse7 les données dyali", False),
        ("امسح المعلومات ديالي", False),
        ("bghit khdma", False),
    ],
)
def test_questions_about_ones_data(text, asks):
    assert asks_about_data(text) is asks


def test_typed_numbers():
    assert typed_number("2") == 2 and typed_number(" 3. ") == 3
    assert typed_number("22") is None and typed_number("2 ans") is None


@pytest.mark.parametrize(
    "text, number",
    [
        ("2", 2),
        ("plus d'infos sur le premier", 1),
        ("le deuxième", 2),
        ("numéro 3", 3),
        ("bghit tani", None),
        ("الأول", 1),
        ("chno hiya forsa", None),
        ("j'ai 22 ans", None),
    ],
)
def test_item_numbers(text, number):
    assert item_number(text) == number
