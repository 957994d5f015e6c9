"""Naming a person as staff know them (a phone number, a Telegram chat id, a web chat id)
and finding the pseudonym the channels gave them, for the staff commands."""

from __future__ import annotations

import re

from bot.channels.identity import BROWSER_ID, pseudonym

WHATSAPP_NUMBER = re.compile(r"^\+[1-9]\d{7,14}$")
TELEGRAM_CHAT_ID = re.compile(r"^-?\d{1,20}$")
CHANNELS = ("whatsapp", "telegram", "webchat", "rest")


def provider_address(channel: str, user: str) -> str:
    """What the channel receives from the provider for this user (and hashes).

    WhatsApp numbers may be typed as staff see them: "+212 6 12 34 56 78",
    "0612345678" (Morocco), "00212612345678" or "whatsapp:+212612345678".
    Raises ValueError with a sentence for anything else.
    """
    user = user.strip()
    if channel == "whatsapp":
        number = re.sub(r"[\s().-]", "", user.removeprefix("whatsapp:"))
        if number.startswith("00"):
            number = "+" + number[2:]
        elif re.fullmatch(r"0[5-7]\d{8}", number):
            number = "+212" + number[1:]
        elif re.fullmatch(r"212\d{9}", number):
            number = "+" + number
        if not WHATSAPP_NUMBER.match(number):
            raise ValueError("not a phone number (e.g. +212612345678 or 0612345678)")
        return f"whatsapp:{number}"
    if channel == "telegram":
        if not TELEGRAM_CHAT_ID.match(user):
            raise ValueError("a Telegram chat id is a number (e.g. 5550199887)")
        return user
    if channel == "webchat":
        if not BROWSER_ID.match(user):
            raise ValueError("a web chat id is 8 to 64 letters, digits, '-' or '_'")
        return user
    if channel == "rest":
        if not user:
            raise ValueError("the REST sender id is empty")
        return user
    raise ValueError(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})")


def person_id_for(channel: str, user: str) -> str:
    """The pseudonym the channel gives this user (Rasa's REST channel uses the id as is)."""
    address = provider_address(channel, user)
    if channel == "rest":
        return address
    return pseudonym(channel, address)
