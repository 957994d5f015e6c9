"""Splitting long texts and numbered choices (no database, no network)."""

from __future__ import annotations

import pytest

from bot.channels.identity import pseudonym
from bot.channels.text import choice_payload, render_choices, split_text

MENU = [
    {"title": "💼 Tl9a khdma", "payload": "/seek_job"},
    {"title": "🎓 Tl9a formation", "payload": "/seek_training"},
    {"title": "🚀 Tbda projet", "payload": "/start_project"},
]


@pytest.mark.parametrize(
    ("reply", "payload"),
    [("1", "/seek_job"), ("2", "/seek_training"), ("wa7ed", "/seek_job"),
     ("jouj", "/seek_training"), ("جوج", "/seek_training"), ("٢", "/seek_training"),
     ("3.", "/start_project"), ("tlata", "/start_project"), ("Tl9a formation", "/seek_training"),
     ("🚀 tbda projet", "/start_project"),
     ("khdma", "/seek_job"), ("projet", "/start_project"), ("tl9a", None), ("4", None),
     ("bghit nl9a khdma f casa", None), ("salam", None)],
)  # fmt: skip
def test_replies_choose_a_button(reply, payload):
    assert choice_payload(reply, MENU) == payload


def test_no_buttons_no_choice():
    assert choice_payload("1", None) is None


def test_numbered_choices():
    assert (
        render_choices("Chno bghiti?", MENU[:2])
        == "Chno bghiti?\n\n1. 💼 Tl9a khdma\n2. 🎓 Tl9a formation"
    )
    assert render_choices("Salam", None) == "Salam"


def test_split_keeps_sentences_whole_and_order():
    text = " ".join(f"Phrase numéro {i}, qui dit quelque chose d'utile." for i in range(100))
    parts = split_text(text, 500)
    assert all(len(part) <= 500 for part in parts)
    assert all(part.endswith(".") for part in parts)
    assert " ".join(parts) == text


def test_split_prefers_paragraphs_and_cuts_giant_words():
    assert split_text("court", 10) == ["court"]
    assert split_text("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]
    assert split_text("Un.\n\nDeux.", 6) == ["Un.", "Deux."]


def test_pseudonyms_are_stable_keyed_and_opaque():
    first = pseudonym("whatsapp", "whatsapp:+212612345678", secret_key="k1")
    assert first == pseudonym("whatsapp", "whatsapp:+212612345678", secret_key="k1")
    assert first != pseudonym("whatsapp", "whatsapp:+212612345678", secret_key="k2")
    assert first != pseudonym("telegram", "whatsapp:+212612345678", secret_key="k1")
    assert first.startswith("whatsapp-") and "212612345678" not in first
