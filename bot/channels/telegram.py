"""Telegram through python-telegram-bot: `/webhooks/telegram/webhook`.

Unlike Rasa's `telegram` channel, this one checks `X-Telegram-Bot-Api-Secret-Token` (403
without it), deduplicates by `update_id`, answers every button tap, registers its webhook
with the secret at start (when PUBLIC_URL is set), and sends from the outbox with
retries that honour Telegram's `retry_after`. See `bot.channels.base` for the flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.channels import queue, spool
from bot.channels.base import Delivery, OutboxOutput, ProviderInput
from bot.channels.identity import pseudonym
from bot.channels.sending import PermanentSendError, Sender, SendOutcome, TransientSendError
from bot.channels.text import MAX_TEXT_LENGTH, typed_text
from bot.settings import get_settings
from bot.storage.models import OutboundMessage

logger = logging.getLogger(__name__)
# PTB logs request parameters (chat ids) at DEBUG, httpx logs URLs with the bot token.
logging.getLogger("telegram").setLevel(logging.INFO)
logging.getLogger("httpx").setLevel(logging.WARNING)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
COMMANDS = {"/start": "/greet", "/help": "/main_menu", "/menu": "/main_menu"}
CAPTION_LIMIT = 1024


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def message_media(message: Message) -> list[dict]:
    """References to what the message carries besides text (file ids, not the files)."""
    if message.voice:
        return [_file("voice", message.voice)]
    if message.audio:
        return [_file("audio", message.audio)]
    if message.photo:
        largest = message.photo[-1]
        return [{"kind": "photo", "file_id": largest.file_id, "content_type": "image/jpeg"}]
    if message.sticker:
        return [
            {"kind": "sticker", "file_id": message.sticker.file_id, "emoji": message.sticker.emoji}
        ]
    if message.video or message.video_note or message.animation:
        return [_file("video", message.video or message.video_note or message.animation)]
    if message.document:
        return [_file("document", message.document)]
    if message.contact:
        return [{"kind": "contact"}]  # not the phone number it carries
    return []


def _file(kind: str, attachment: Any) -> dict:
    return {
        "kind": kind,
        "file_id": attachment.file_id,
        "content_type": getattr(attachment, "mime_type", None),
    }


def resolve_button(session: Session, person_id: str, data: str | None) -> tuple[str, str] | None:
    """(title, payload) of the button whose callback data is `b:<outbox id>:<index>`,
    if that message was sent to this person."""
    kind, _, rest = (data or "").partition(":")
    outbound, _, index = rest.partition(":")
    if kind != "b" or not outbound.isdigit() or not index.isdigit():
        return None
    row = session.get(OutboundMessage, int(outbound))
    if row is None or row.person_id != person_id or not row.buttons:
        return None
    if int(index) >= len(row.buttons):
        return None
    button = row.buttons[int(index)]
    return button["title"], button["payload"]


def record_update(session: Session, *, update_id: int, person_id: str, address: str,
                  text: str | None, media: list[dict], location: dict | None,
                  callback_data: str | None,
                  claim_for: float | None = None) -> int | None:  # fmt: skip
    payload = None
    if callback_data is not None:
        tapped = resolve_button(session, person_id, callback_data)
        if tapped is not None:
            text, payload = tapped
    return queue.record_inbound(
        session,
        channel="telegram",
        provider_message_id=str(update_id),
        person_id=person_id,
        address=address,
        text=text,
        payload=payload,
        media=media,
        location=location,
        claim_for=claim_for,
    )


spool.register("telegram_update", record_update)


class TelegramOutput(OutboxOutput):
    @classmethod
    def name(cls) -> str:
        return "telegram"


class TelegramSender(Sender):
    """Sends outbox rows with PTB's Bot; registers the webhook at start."""

    channel = "telegram"

    def __init__(
        self,
        *,
        token: str,
        secret_token: str,
        base_url: str,
        webhook_url: str | None = None,
    ) -> None:
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.bot = Bot(
            token,
            base_url=f"{base_url.rstrip('/')}/bot",
            request=HTTPXRequest(connection_pool_size=64, read_timeout=10, write_timeout=10),
        )

    async def start(self) -> None:
        if not self.webhook_url:
            logger.info("PUBLIC_URL is not set: the Telegram webhook is not registered")
            return
        try:
            await self.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
            logger.info("Telegram webhook registered: %s", self.webhook_url)
        except TelegramError as error:  # the bot still sends; an operator can retry
            logger.error("Could not register the Telegram webhook: %s", type(error).__name__)

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # closing at shutdown: nothing left to do
            await self.bot.shutdown()

    async def answer_callback(self, callback_query_id: str) -> None:
        """Stop the spinner on the tapped button (Telegram waits for this answer)."""
        try:
            await self.bot.answer_callback_query(callback_query_id)
        except TelegramError as error:
            logger.warning("Could not answer a Telegram callback query: %s", error)

    async def send(self, message: queue.OutboundSnapshot) -> SendOutcome:
        if not message.address:
            raise PermanentSendError("the person has no Telegram chat id (erased?)")
        keyboard = None
        if message.buttons:
            keyboard = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(button["title"], callback_data=f"b:{message.id}:{i}")]
                    for i, button in enumerate(message.buttons)
                ]
            )
        photos = [m["url"] for m in message.media or [] if m.get("url") and m["kind"] == "photo"]
        text = (message.text or "")[: MAX_TEXT_LENGTH["telegram"]]
        try:
            if photos:
                sent = await self.bot.send_photo(
                    chat_id=message.address,
                    photo=photos[0],
                    caption=text[:CAPTION_LIMIT] or None,
                    reply_markup=keyboard,
                )
            else:
                sent = await self.bot.send_message(
                    chat_id=message.address, text=text or "…", reply_markup=keyboard
                )
        except RetryAfter as error:
            raise TransientSendError("Telegram flood control", retry_seconds(error)) from None
        except (BadRequest, Forbidden, ChatMigrated, InvalidToken) as error:
            raise PermanentSendError(f"Telegram refused: {type(error).__name__}: {error}") from None
        except NetworkError as error:  # includes TimedOut and 5xx answers
            raise TransientSendError(f"Telegram unreachable: {error}") from None
        return SendOutcome(provider_message_id=str(sent.message_id))


class TelegramInput(ProviderInput):
    """Telegram updates from the Bot API webhook, checked, persisted and answered at once."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        """Secrets come from the environment (credentials.yml only names the channel)."""
        settings = get_settings()
        secrets = {
            "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
            "TELEGRAM_SECRET_TOKEN": settings.telegram_secret_token,
        }
        return cls.from_secrets(  # type: ignore[return-value]
            secrets,
            token=settings.telegram_bot_token,
            secret_token=settings.telegram_secret_token,
            base_url=settings.telegram_base_url,
            public_url=settings.public_url,
        )

    def __init__(
        self,
        token: str | None = None,
        secret_token: str | None = None,
        base_url: str = "https://api.telegram.org",
        public_url: str | None = None,
        disabled_reason: str | None = None,
    ) -> None:
        super().__init__(disabled_reason)
        self.token = token
        self.secret_token = secret_token or ""
        self.base_url = base_url
        self.public_url = public_url.rstrip("/") if public_url else None
        self._sender: TelegramSender | None = None
        self._background: set[asyncio.Task] = set()

    def sender(self) -> Sender:
        if self._sender is None:
            self._sender = TelegramSender(
                token=self.token or "",
                secret_token=self.secret_token,
                base_url=self.base_url,
                webhook_url=(
                    f"{self.public_url}/webhooks/telegram/webhook" if self.public_url else None
                ),
            )
        return self._sender

    def output(self, inbound_id: int | None, delivery: Delivery | None) -> OutboxOutput:
        return TelegramOutput(inbound_id, delivery)

    # ------------------------------------------------------------ webhook

    def has_secret(self, request: Request) -> bool:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        if given and hmac.compare_digest(given.encode(), self.secret_token.encode()):
            return True
        logger.warning(
            "Rejected a Telegram update: %s X-Telegram-Bot-Api-Secret-Token",
            "invalid" if given else "missing",
        )
        return False

    async def webhook(self, request: Request) -> HTTPResponse:
        if not self.has_secret(request):
            return response.text("invalid secret token", status=403)
        try:
            update = Update.de_json(request.json, None)
        except Exception:  # noqa: BLE001 - anything unparsable is the sender's fault
            return response.text("not a Telegram update", status=400)
        if update is None:
            return response.text("not a Telegram update", status=400)
        callback = update.callback_query
        message = update.message or update.edited_message
        chat = (callback.message.chat if callback and callback.message else None) or (
            message.chat if message else None
        )
        if chat is None or chat.type != "private":
            return response.json({"ok": True})  # other updates and group chats: nothing to do
        address = str(chat.id)
        inbound_id = await spool.record(
            "telegram_update",
            update_id=update.update_id,
            person_id=pseudonym(self.name(), address),
            address=address,
            text=(message.text or message.caption) if message else None,
            media=message_media(message) if message else [],
            location=(
                {"latitude": message.location.latitude, "longitude": message.location.longitude}
                if message and message.location
                else None
            ),
            callback_data=callback.data if callback else None,
            claim_for=self.worker.claim_for(),
        )
        if inbound_id is None:
            logger.info("Telegram update %s received again; already in the inbox", update.update_id)
            return response.json({"ok": True})
        self.worker.inbox_recorded(inbound_id)
        if callback is not None:
            task = asyncio.create_task(self.sender().answer_callback(callback.id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return response.json({"ok": True})

    # ------------------------------------------------------------ to Rasa

    async def read_text(self, message: queue.InboundSnapshot, metadata: dict[str, Any]) -> str:
        """A bot command (/start, /help) is its intent; an unknown one is plain text."""
        text = (message.text or "").strip()
        if text.startswith("/"):
            command = text.split()[0].split("@")[0].lower()
            if command in COMMANDS:
                return COMMANDS[command]
        return typed_text(text)  # an unknown command is not an intent name
