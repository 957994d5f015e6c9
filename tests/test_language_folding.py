"""bot.language.folding and bot.language.numbers: the named fold levels keep their own tables
(each reader understands what it understood before they had one home), and the number words."""

from __future__ import annotations

import pytest

from bot.language.folding import fold, fold_letters
from bot.language.numbers import choice_number, number_value


@pytest.mark.parametrize(
    ("text", "level", "folded"),
    [
        # NLU: emphasis collapsed, double letters kept, ة and digits inside words untouched.
        ("Salaaaam mzyan", "nlu", "salam mzyan"),
        ("مدرسة", "nlu", "مدرسة"),
        ("n9ra ٢٢", "nlu", "n9ra 22"),
        # Choices: punctuation and emoji are spaces, Arabic-Indic digits stay digits.
        ("bac+2", "choice", "bac 2"),
        ("٢", "choice", "٢"),
        ("💼 Trouver un travail", "choice", "trouver un travail"),
        # Follow-up answers: the choice level, then ة ى ڭ.
        ("مدرسة", "answer", "مدرسه"),
        # Places: گ is folded; profile answers do not fold it.
        ("گ", "place", "ك"),
        ("گ", "profile", "گ"),
        ("Aïn_Harrouda", "place", "ain harrouda"),
        ("ain harrouda", "place_skeleton", "anhrd"),
        ("3in 7rouda", "place_skeleton", "anhrd"),
        # Profile answers keep what numbers and levels need.
        ("Bac+2", "profile", "bac+2"),
        ("٢٢ ans", "profile", "22 ans"),
        ("50.000 DH", "profile", "50.000 dh"),
        # The distress lexicon's words.
        ("Salaaam", "lexicon_latin", "salam"),
        ("n9tel", "lexicon_skeleton", "nqtl"),
        ("khnt9", "lexicon_skeleton", "5ntq"),
        ("قَتَّل", "lexicon_arabic", "قتل"),
    ],
)
def test_each_level_folds_with_its_own_table(text, level, folded):
    assert fold(text, level) == folded


def test_letters_only_for_hand_written_patterns():
    assert fold_letters("الخياطة ڭ گ", "profile") == "الخياطه ك گ"
    assert fold_letters("الخياطة ڭ گ", "place") == "الخياطه ك ك"


def test_choice_numbers():
    assert choice_number("jouj") == 2
    assert choice_number("٣") == 3
    assert choice_number("khamsa") == 5
    assert choice_number("khamsa", most=4) is None
    assert choice_number("salam") is None


def test_number_values():
    assert number_value("khamsa") == 5
    assert number_value("w3chrin") == 20
    assert number_value("وعشرين") == 20
    assert number_value("salam") is None
