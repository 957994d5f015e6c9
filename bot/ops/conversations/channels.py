"""One person's side of a conversation over REST, WhatsApp or Telegram.

A turn ends when the bot is done with the person's message: at once over REST (the
replies come back in the response); over WhatsApp and Telegram when the inbox row is
processed and every outbox row of the person has reached the fake provider, whose
records are what the person's phone shows (WhatsApp's numbered choices included).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.channels.identity import pseudonym
from bot.ops.conversations.stack import ConversationStack, callback_update, text_update
from bot.storage.models import InboundMessage, OutboundMessage

TURN_TIMEOUT = 90.0
CHOICE_LINE = re.compile(r"^(\d+)\. (.*)$")


@dataclass
class Button:
    title: str
    payload: str | None = None  # REST: the payload; Telegram: the callback data


@dataclass
class BotMessage:
    text: str
    buttons: list[Button] = field(default_factory=list)
    author: str = "bot"  # bot | counsellor | system
    numbered: bool = False  # WhatsApp: the buttons were numbered lines of the text
    response: str | None = None  # filled by the runner (responses.ResponseIndex)
    languages: frozenset[str] = frozenset()

    @property
    def shown(self) -> str:
        """What the person reads: the text and the button titles."""
        return "\n".join([self.text, *(b.title for b in self.buttons)]).strip()

    @property
    def chars(self) -> int:
        return len(self.text) + sum(len(b.title) for b in self.buttons)


def split_choices(body: str) -> tuple[str, list[str]]:
    """A WhatsApp body as (text, titles of its numbered choices "1. …", "2. …")."""
    head, _, tail = body.rpartition("\n\n")
    block = tail if head or tail else body
    lines = block.split("\n")
    numbers = [CHOICE_LINE.match(line) for line in lines]
    if all(numbers) and [int(m.group(1)) for m in numbers] == list(range(1, len(lines) + 1)):
        return head, [m.group(2) for m in numbers]
    return body, []


class Conversation(ABC):
    channel = ""

    def __init__(self, stack: ConversationStack, sender_id: str) -> None:
        self.stack = stack
        self.sender_id = sender_id  # Rasa's sender id (the pseudonym on WhatsApp/Telegram)
        self.history: list[BotMessage] = []

    @abstractmethod
    def send(self, text: str) -> list[BotMessage]: ...

    def tap(self, which: int | str) -> list[BotMessage]:
        raise AssertionError(f"{self.channel} has no buttons to tap: type the choice instead")

    def counsellor(self, action: str, text: str | None = None) -> list[BotMessage]:
        raise AssertionError(f"counsellor turns need WhatsApp or Telegram, not {self.channel}")

    def last_buttons(self) -> list[Button]:
        for message in reversed(self.history):
            if message.buttons:
                return message.buttons
        return []

    def button(self, which: int | str) -> Button:
        buttons = self.last_buttons()
        if isinstance(which, int):
            if not 1 <= which <= len(buttons):
                raise AssertionError(f"no button {which} among {[b.title for b in buttons]}")
            return buttons[which - 1]
        for candidate in buttons:
            if str(which).casefold() in candidate.title.casefold():
                return candidate
        raise AssertionError(f"no button {which!r} among {[b.title for b in buttons]}")


class RestConversation(Conversation):
    channel = "rest"

    def send(self, text: str) -> list[BotMessage]:
        replies = self.stack.rest(self.sender_id, text)
        messages = [
            BotMessage(
                text=reply.get("text") or "",
                buttons=[
                    Button(b.get("title", ""), b.get("payload")) for b in reply.get("buttons") or []
                ],
            )
            for reply in replies
            if reply.get("text") or reply.get("buttons")
        ]
        self.history += messages
        return messages

    def tap(self, which: int | str) -> list[BotMessage]:
        return self.send(self.button(which).payload or "")


class ProviderConversation(Conversation):
    """WhatsApp and Telegram: the webhook, then wait for the inbox and the outbox."""

    address = ""

    def wait_turn(self, since_outbound: int) -> list[BotMessage]:
        deadline = time.monotonic() + TURN_TIMEOUT
        while True:
            with self.stack.session() as session:
                inbound_waiting = session.execute(
                    select(func.count())
                    .select_from(InboundMessage)
                    .where(
                        InboundMessage.person_id == self.sender_id,
                        InboundMessage.status.in_(("pending", "processing")),
                    )
                ).scalar()
                rows = (
                    session.execute(
                        select(OutboundMessage)
                        .where(
                            OutboundMessage.person_id == self.sender_id,
                            OutboundMessage.id > since_outbound,
                        )
                        .order_by(OutboundMessage.id)
                    )
                    .scalars()
                    .all()
                )
                rows = [(r.id, r.status, r.author, r.provider_message_id) for r in rows]
            unsent = [r for r in rows if r[1] in ("pending", "sending")]
            if not inbound_waiting and not unsent:
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.channel}: the turn did not end in {TURN_TIMEOUT:.0f} s "
                    f"(inbox waiting: {inbound_waiting}, outbox unsent: {len(unsent)})"
                )
            time.sleep(0.05)
        failed = [r for r in rows if r[1] in ("failed", "undelivered")]
        if failed:
            raise AssertionError(f"{self.channel}: {len(failed)} replies failed to send")
        authors = {r[3]: r[2] for r in rows}
        messages = [self.read(m, authors) for m in self.provider_messages(set(authors))]
        self.history += messages
        return messages

    def last_outbound(self) -> int:
        with self.stack.session() as session:
            return (
                session.execute(
                    select(func.max(OutboundMessage.id)).where(
                        OutboundMessage.person_id == self.sender_id
                    )
                ).scalar()
                or 0
            )

    def counsellor(self, action: str, text: str | None = None) -> list[BotMessage]:
        before = self.last_outbound()
        self.stack.counsellor(self.sender_id, action, text)
        time.sleep(0.3)  # the dashboard queues its messages at once; let the worker see them
        return self.wait_turn(before)

    @abstractmethod
    def provider_messages(self, provider_ids: set[str]) -> list[dict]: ...

    @abstractmethod
    def read(self, message: dict, authors: dict[str, str]) -> BotMessage: ...


class WhatsAppConversation(ProviderConversation):
    channel = "whatsapp"
    _numbers = itertools.count(1)

    def __init__(self, stack: ConversationStack, index: int | None = None) -> None:
        number = next(self._numbers) if index is None else index
        self.address = f"whatsapp:+2126{number:08d}"
        super().__init__(stack, pseudonym("whatsapp", self.address, stack.secret_key))

    def send(self, text: str) -> list[BotMessage]:
        before = self.last_outbound()
        self.stack.whatsapp_post(self.address, text)
        return self.wait_turn(before)

    def provider_messages(self, provider_ids: set[str]) -> list[dict]:
        return [m for m in self.stack.twilio.sent_to(self.address) if m.get("sid") in provider_ids]

    def read(self, message: dict, authors: dict[str, str]) -> BotMessage:
        text, titles = split_choices(message.get("Body") or "")
        return BotMessage(
            text=text,
            buttons=[Button(title) for title in titles],
            author=authors.get(message.get("sid"), "bot"),
            numbered=bool(titles),
        )


class TelegramConversation(ProviderConversation):
    channel = "telegram"
    _chats = itertools.count(1)

    def __init__(self, stack: ConversationStack, index: int | None = None) -> None:
        self.chat_id = 880_000_000 + (next(self._chats) if index is None else index)
        self.address = str(self.chat_id)
        super().__init__(stack, pseudonym("telegram", self.address, stack.secret_key))

    def send(self, text: str) -> list[BotMessage]:
        before = self.last_outbound()
        self.stack.telegram_post(text_update(self.chat_id, text))
        return self.wait_turn(before)

    def tap(self, which: int | str) -> list[BotMessage]:
        chosen = self.button(which)
        before = self.last_outbound()
        self.stack.telegram_post(callback_update(self.chat_id, chosen.payload or ""))
        return self.wait_turn(before)

    def provider_messages(self, provider_ids: set[str]) -> list[dict]:
        wanted = {str(i) for i in provider_ids}
        return [
            m
            for m in self.stack.telegram.sent_to(self.chat_id)
            if str(m.get("message_id")) in wanted
        ]

    def read(self, message: dict, authors: dict[str, str]) -> BotMessage:
        markup = message.get("reply_markup")
        rows = (json.loads(markup) if isinstance(markup, str) else markup or {}).get(
            "inline_keyboard"
        ) or []
        buttons = [Button(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]
        text = message.get("text") or message.get("caption") or ""
        return BotMessage(
            text="" if text == "…" and buttons else text,
            buttons=buttons,
            author=authors.get(str(message.get("message_id")), "bot"),
        )


def open_conversation(stack: ConversationStack, channel: str, sender_id: str) -> Conversation:
    if channel == "rest":
        return RestConversation(stack, sender_id)
    if channel == "whatsapp":
        return WhatsAppConversation(stack)
    if channel == "telegram":
        return TelegramConversation(stack)
    raise ValueError(f"unknown channel {channel!r}")
