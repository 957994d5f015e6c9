"""What the WhatsApp, Telegram and web chat channels share: outbox output, disabled mode,
and starting the Rasa server's background work.

A provider channel is a Rasa input/output pair like Rasa's own, with one difference:
nothing is processed in the webhook request. The webhook checks the provider's proof,
persists the message in the inbox and answers at once; the delivery worker
(`bot.channels.worker`) hands inbox rows to Rasa with an `OutboxOutput`, which writes
every reply to the outbox, and the channel's `Sender` (`bot.channels.sending`) delivers
outbox rows. When the server starts, the channels start the worker and, beside it, the
follow-up scheduler (`bot.followup.scheduler`); they stop both when it stops.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.outages import unavailable_store
from bot.channels.outbound import enqueue_message
from bot.channels.queue import InboundSnapshot, OutboundSnapshot, enqueue_and_claim
from bot.channels.sending import Sender
from bot.channels.text import typed_text
from bot.channels.worker import ChannelWorker, get_worker
from bot.followup.scheduler import FollowupScheduler
from bot.settings import get_settings
from bot.storage.db import in_session

logger = logging.getLogger(__name__)

# Media kinds passed to Rasa as `/media_received{"media_kind": ...}`.
MEDIA_KINDS = ("voice", "audio", "photo", "video", "document", "sticker", "location")


def media_intent(kind: str) -> str:
    """The intent payload that tells Rasa a media message arrived (no text to read)."""
    return "/media_received" + json.dumps({"media_kind": kind}, separators=(",", ":"))


# ---------------------------------------------------------------- Rasa side


@dataclass(frozen=True)
class PreparedMessage:
    """What Rasa receives for one inbox row."""

    text: str
    metadata: dict[str, Any]


class Delivery(Protocol):
    """What an `OutboxOutput` tells of each reply it queues: the delivery worker of this
    process (`bot.channels.worker.ChannelWorker`)."""

    def claim_for(self, outbox: bool = False) -> float | None: ...

    def replies_under_way(self, person_id: str, channel: str) -> Any: ...

    def outbox_queued(self, claimed: list[OutboundSnapshot], behind: Any = None) -> None: ...


class OutboxOutput(OutputChannel):
    """Rasa's replies go to the outbox; the channel's sender delivers them.

    Replies to an inbox row get the idempotency keys `in:<inbound id>:<n>`, so
    processing the same row again (after a crash) queues nothing new. Other senders set
    their own `key_prefix` (a follow-up question: `followup:<id>`). With a `delivery`,
    a reply its worker can send at once is claimed as it is queued, and handed to it.
    """

    def __init__(
        self,
        inbound_id: int | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self.inbound_id = inbound_id
        self.delivery = delivery
        self.key_prefix = f"in:{inbound_id}" if inbound_id is not None else None
        self._count = 0

    def keyed(self, key_prefix: str) -> OutboxOutput:
        """The next replies keyed `<key_prefix>:1`, `:2`... (the safety net's own messages)."""
        self.key_prefix = key_prefix
        self._count = 0
        return self

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        text = message.get("text")
        buttons = message.get("buttons") or message.get("quick_replies") or None
        media = []
        if message.get("image"):
            media.append({"kind": "photo", "url": message["image"]})
        if message.get("attachment"):
            media.append({"kind": "document", "url": message["attachment"]})
        if not (text or buttons or media):
            return  # custom payloads and elements have no equivalent on these channels
        await self.enqueue(recipient_id, text=text, buttons=buttons, media=media)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.enqueue(recipient_id, text=text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.enqueue(recipient_id, text=text, buttons=buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.enqueue(recipient_id, text=text, buttons=quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.enqueue(recipient_id, text=None, media=[{"kind": "photo", "url": image}])

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self.enqueue(recipient_id, text=None, media=[{"kind": "document", "url": attachment}])

    async def enqueue(
        self,
        recipient_id: str,
        *,
        text: str | None,
        buttons: list[dict] | None = None,
        media: list[dict] | None = None,
    ) -> None:
        self._count += 1
        key = f"{self.key_prefix}:{self._count}" if self.key_prefix else None
        clean_buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in buttons or []
        ]

        message = {
            "person_id": recipient_id,
            "channel": self.name(),
            "text": text,
            "buttons": clean_buttons or None,
            "media": media or None,
            "idempotency_key": key,
        }
        lease = self.delivery.claim_for(outbox=True) if self.delivery else None
        if lease is None:
            await in_session(enqueue_message, **message)
            claimed, behind = [], None
        else:
            # Queued behind the person's replies this worker is sending (a turn's earlier
            # replies), it is claimed at once and follows them without a claim of its own.
            behind = self.delivery.replies_under_way(recipient_id, self.name())
            claimed = await in_session(
                enqueue_and_claim,
                claim_for=lease,
                behind=behind.row_ids() if behind is not None else (),
                **message,
            )
        if self.delivery:
            self.delivery.outbox_queued(claimed, behind)


class ProviderInput(InputChannel):
    """A provider's input channel: enabled with its secrets, or disabled with a reason.

    Subclasses implement `webhook` (check, parse, persist), `output` (their OutboxOutput)
    and `sender` (their Sender), and may change how an inbox row's text reads (`read_text`).
    """

    # Larger webhook bodies are refused (413) before anything is read or stored.
    max_body_bytes = 1_000_000

    def __init__(self, disabled_reason: str | None = None) -> None:
        self.disabled_reason = disabled_reason
        self._worker: ChannelWorker | None = None

    @property
    def worker(self) -> ChannelWorker:
        """The delivery worker this channel's messages go to (the process's own)."""
        return self._worker or get_worker()

    @property
    def enabled(self) -> bool:
        return self.disabled_reason is None

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, str | None], **values: Any) -> ProviderInput:
        """The channel built with `values`, or disabled when one of its `secrets`
        (environment variable name -> value) is missing."""
        missing = [name for name, value in secrets.items() if not value]
        if missing:
            return cls.disabled(missing)
        return cls(**values)

    @classmethod
    def disabled(cls, missing: list[str]) -> ProviderInput:
        reason = f"missing {', '.join(missing)}"
        logger.warning(
            "%s channel disabled: %s (set them to enable it; the other channels run).",
            cls.name().capitalize(),
            reason,
        )
        return cls(disabled_reason=reason)

    # -- to implement ------------------------------------------------------------

    def sender(self) -> Sender:
        raise NotImplementedError

    def output(self, inbound_id: int | None, delivery: Delivery | None) -> OutboxOutput:
        raise NotImplementedError

    async def read_text(self, message: InboundSnapshot, metadata: dict[str, Any]) -> str:
        """The text Rasa reads of an inbox row (channels map commands or numbered choices
        here, and may say so in `metadata`); never an intent typed as `/intent`."""
        return typed_text(message.text)

    async def webhook(self, request: Request) -> HTTPResponse:
        raise NotImplementedError

    def extra_routes(self, blueprint: Blueprint) -> None:
        """Routes besides health and webhook (e.g. WhatsApp's status callback)."""

    # -- an inbox row for Rasa ----------------------------------------------------

    async def prepare(self, message: InboundSnapshot) -> PreparedMessage | None:
        """Rasa's input for an inbox row: the payload of a tapped button, else the text
        (`read_text`), else the first media or the location as an intent; None when there
        is nothing to answer."""
        metadata: dict[str, Any] = {}
        if message.media:
            metadata["media_kinds"] = [item["kind"] for item in message.media]
        if message.payload:
            return PreparedMessage(message.payload, metadata)
        text = await self.read_text(message, metadata)
        if text:
            return PreparedMessage(text, metadata)
        if message.media:
            return PreparedMessage(media_intent(message.media[0]["kind"]), metadata)
        if message.location:
            return PreparedMessage(media_intent("location"), metadata)
        return None

    # -- Rasa's InputChannel ----------------------------------------------------

    def get_output_channel(self) -> OutputChannel | None:
        """For Rasa's HTTP API (e.g. a trigger_intent with output_channel=latest)."""
        if not self.enabled:
            return None
        return self.output(None, self.worker)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        channel_blueprint = Blueprint(f"{self.name()}_webhook", __name__)

        @channel_blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json(
                    {"status": "disabled", "reason": self.disabled_reason}, status=503
                )
            return response.json({"status": "ok"})

        @channel_blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.json(
                    {"status": "disabled", "reason": self.disabled_reason}, status=503
                )
            if len(request.body or b"") > self.max_body_bytes:
                return response.text("request body too large", status=413)
            try:
                return await self.webhook(request)
            except Exception as error:
                store = unavailable_store(error)
                if store is None:
                    raise
                # Not persisted, so not acknowledged: the provider sends it again later.
                self.worker.outages.down(store, error)
                return response.json(
                    {"status": "unavailable", "reason": f"{store} is unavailable"},
                    status=503,
                    headers={"Retry-After": "5"},
                )

        if self.enabled:
            self.extra_routes(channel_blueprint)
            worker = self._worker = get_worker()
            worker.register(self, on_new_message)

            @channel_blueprint.listener("after_server_start")
            async def start(app, _loop) -> None:
                await start_background_work(app, worker)

            @channel_blueprint.listener("before_server_stop")
            async def stop(app, _loop) -> None:
                await stop_background_work(app, worker)

        return channel_blueprint


async def start_background_work(app: Any, worker: ChannelWorker) -> None:
    """After the Rasa server starts: its delivery worker, and beside it the follow-up
    scheduler when follow-ups are on (once per server, whichever channel comes first)."""
    await worker.start(app)
    if get_settings().followup_days > 0 and getattr(app.ctx, "followups", None) is None:
        app.ctx.followups = FollowupScheduler(worker)
        app.ctx.followups.start()


async def stop_background_work(app: Any, worker: ChannelWorker) -> None:
    """Before the Rasa server stops: the follow-up scheduler, then the delivery worker."""
    followups, app.ctx.followups = getattr(app.ctx, "followups", None), None
    if followups is not None:
        await followups.stop()
    await worker.stop()
