"""bot.language.folding: the spellings it folds, and offsets that survive it."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language.folding import normalise, normalise_with_spans


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Arabic script
        ("بِزَّافْ", "بزاف"),  # harakat and shadda
        ("بـــزاف", "بزاف"),  # tatweel
        ("أنا إسمي آمنة", "انا اسمي امنة"),  # alef variants
        ("ٱلمركز", "المركز"),
        ("على", "علي"),  # alef maqsura
        ("عندي ٢٢ عام و ۱۸", "عندي 22 عام و 18"),  # Arabic-Indic and Persian digits
        ("واش، كاين؛ شي حد؟", "واش, كاين; شي حد?"),  # Arabic punctuation
        ("ﻻ", "لا"),  # presentation form
        ("بزااااف", "بزاف"),  # emphasis
        # Latin script
        ("Je Cherche UN TRAVAIL", "je cherche un travail"),
        ("Français, école, où, ça", "francais, ecole, ou, ca"),
        ("e\u0301cole", "ecole"),  # accent typed as a combining mark
        ("CŒUR", "coeur"),
        ("salaaaam", "salam"),
        ("merciiii bzzzaf", "merci bzaf"),
        ("mzyan lkhout", "mzyan lkhout"),  # double letters are spelling, kept
        # Arabizi digits are letters, numbers are numbers
        ("n9ra 3afak, 7it", "n9ra 3afak, 7it"),
        ("0600000000 1000 dh", "0600000000 1000 dh"),
        ("", ""),
        ("👍🙏", "👍🙏"),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


def test_an_entity_span_moves_to_the_normalised_text_and_back():
    text = "Salaaam, bghit nkhdem f Aïn Harrouuuda 3afak"
    normalised = normalise_with_spans(text)
    start = text.index("Aïn")
    end = start + len("Aïn Harrouuuda")
    new_start, new_end = normalised.to_normalised(start, end)
    assert normalised.text[new_start:new_end] == "ain harrouda"
    assert normalised.to_original(new_start, new_end) == (start, end)
    # The words after it keep their place too.
    start = text.index("3afak")
    new_start, new_end = normalised.to_normalised(start, start + 5)
    assert normalised.text[new_start:new_end] == "3afak"


def test_dropped_harakat_stay_with_their_word():
    text = "بْغِيتْ نْخْدَمْ"
    normalised = normalise_with_spans(text)
    assert normalised.text == "بغيت نخدم"
    new_start, new_end = normalised.to_normalised(0, text.index(" "))
    assert normalised.text[new_start:new_end] == "بغيت"
    assert normalised.to_original(new_start, new_end) == (0, text.index(" "))


REALISTIC = st.text(
    alphabet=st.sampled_from(
        list("abcdeéèàçôîAZEÉ sla0123456789'?!,.") + list("اأإآىةبتنمـًٌٍَُِّْ،؟؛٠١٢۳") + ["👍", "🙏"]
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(REALISTIC)
def test_spans_cover_the_original_in_order(text):
    normalised = normalise_with_spans(text)
    assert len(normalised.spans) == len(normalised.text)
    previous = (0, 0)
    for span in normalised.spans:
        start, end = span
        assert 0 <= start < end <= len(text)
        # in order, not overlapping (an expansion such as ﻻ → لا shares one span)
        assert start >= previous[1] or span == previous
        previous = span
    assert normalise(normalised.text) == normalised.text  # idempotent


@settings(max_examples=200, deadline=None)
@given(REALISTIC, st.data())
def test_any_word_span_maps_to_its_normalised_word(text, data):
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not words:
        return
    start, end = data.draw(st.sampled_from(words))
    normalised = normalise_with_spans(text)
    new_start, new_end = normalised.to_normalised(start, end)
    assert normalised.text[new_start:new_end] == normalise(text[start:end]) or (
        # a word that folds to nothing (only marks) maps to an empty span
        new_start == new_end and not normalise(text[start:end])
    )
