"""Text that fits each channel: splitting long messages, numbered choices for WhatsApp.

WhatsApp free-form messages have no buttons, so a reply with buttons is sent as text
followed by numbered choices ("1. …"), and the person's answer ("1", "jouj", "٢", or the
words of a choice) is mapped back to the button's payload.
"""

from __future__ import annotations

import re

from bot.language.folding import fold
from bot.language.numbers import choice_number

# Longest text one provider message carries.
MAX_TEXT_LENGTH = {"whatsapp": 1600, "telegram": 4096}
# What the inbox keeps of a message, on every channel: far above what NLU reads
# (bot/nlu/normaliser.py reads 1,000 characters and tells the person the rest was not read).
MAX_INBOUND_TEXT = 20_000


def typed_text(text: str | None) -> str:
    """What a person typed, never taken for a Rasa intent: Rasa reads a message that starts
    with "/" as `/intent{"entity": ...}`, which would let anyone steer the dialogue."""
    return (text or "").strip().lstrip("/").strip()


_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+|\n+")


def split_text(text: str, limit: int) -> list[str]:
    """Parts of at most `limit` characters, cut between sentences when possible.

    Paragraph breaks and sentence ends are preferred; a sentence longer than `limit`
    is cut between words, and a word longer than `limit` where it must.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        separator = piece[1]
        candidate = f"{current}{separator}{piece[0]}" if current else piece[0]
        if len(candidate) <= limit:
            current = candidate
        else:
            parts.append(current)
            current = piece[0]
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """Sentences (each ≤ limit) with the separator that preceded them in the text."""
    pieces: list[tuple[str, str]] = []
    position = 0
    separator = ""
    for match in _SENTENCE_END.finditer(text):
        pieces += _fit(text[position : match.start()], separator, limit)
        separator = "\n\n" if "\n\n" in match.group() else ("\n" if "\n" in match.group() else " ")
        position = match.end()
    pieces += _fit(text[position:], separator, limit)
    return [p for p in pieces if p[0]]


def _fit(sentence: str, separator: str, limit: int) -> list[tuple[str, str]]:
    if len(sentence) <= limit:
        return [(sentence, separator)]
    pieces: list[tuple[str, str]] = []
    for word in sentence.split(" "):
        while len(word) > limit:
            pieces.append((word[:limit], separator))
            word, separator = word[limit:], ""
        pieces.append((word, separator))
        separator = " "
    return pieces


# ---------------------------------------------------------------- numbered choices


def render_choices(text: str | None, buttons: list[dict] | None) -> str:
    """The text followed by one numbered line per button."""
    lines = [f"{index}. {button['title']}" for index, button in enumerate(buttons or [], 1)]
    if not lines:
        return text or ""
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def choice_payload(reply: str, buttons: list[dict] | None) -> str | None:
    """The payload of the button that `reply` chooses, or None if it chooses none.

    A reply chooses a button by its number (digits, Arabic-Indic digits, or the number in
    words: "jouj", "جوج", "deux"), by its whole title, or by words found in one title only.
    """
    if not buttons:
        return None
    said = fold(reply, "choice")
    if not said:
        return None
    number = choice_number(said)
    if number is not None:
        return buttons[number - 1]["payload"] if number <= len(buttons) else None
    titles = [fold(button["title"], "choice") for button in buttons]
    for button, title in zip(buttons, titles, strict=True):
        if said == title:
            return button["payload"]
    words = set(said.split())
    if len(words) > 3 or max(len(w) for w in words) < 3:
        return None
    matching = [b for b, t in zip(buttons, titles, strict=True) if words <= set(t.split())]
    return matching[0]["payload"] if len(matching) == 1 else None
