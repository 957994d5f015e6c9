"""WhatsApp through Twilio: `/webhooks/whatsapp/webhook` and `/webhooks/whatsapp/status`.

Unlike Rasa's `twilio` channel, this one checks `X-Twilio-Signature` (403 without a valid
one), persists each message before answering Twilio (deduplicated by `MessageSid`),
understands media, locations and numbered choices, and sends from the outbox without
blocking the event loop, with retries. See `bot.channels.base` for the flow.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters, parse_qs
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels import queue, spool
from bot.channels.base import Delivery, OutboxOutput, ProviderInput
from bot.channels.identity import pseudonym
from bot.channels.sending import PermanentSendError, Sender, SendOutcome, TransientSendError
from bot.channels.text import MAX_TEXT_LENGTH, choice_payload, render_choices, typed_text
from bot.settings import get_settings
from bot.storage.db import in_session
from bot.storage.models import utcnow

logger = logging.getLogger(__name__)
# Twilio's client logs every request at INFO; keep addresses and noise out of the logs.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SESSION_WINDOW = timedelta(hours=24)  # WhatsApp's customer-service window
LONGEST_CHOICE_REPLY = 60  # longer texts are never a choice: skip the lookup


def media_kind(content_type: str | None) -> str:
    content_type = (content_type or "").lower()
    if content_type == "image/webp":
        return "sticker"  # WhatsApp stickers arrive as WebP images
    if content_type.startswith("audio/"):
        return "voice"
    if content_type.startswith("image/"):
        return "photo"
    if content_type.startswith("video/"):
        return "video"
    return "document"


class WhatsAppOutput(OutboxOutput):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"


class WhatsAppSender(Sender):
    """Sends outbox rows with twilio's Client, in threads of its own."""

    channel = "whatsapp"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        whatsapp_from: str,
        base_url: str,
        status_callback_url: str | None = None,
        followup_content_sid: str | None = None,
        threads: int = 16,
    ) -> None:
        self.whatsapp_from = whatsapp_from
        self.status_callback_url = status_callback_url
        self.followup_content_sid = followup_content_sid
        self.client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=10, pool_connections=True),
        )
        self.client.api.base_url = base_url.rstrip("/")
        # Blocking HTTP calls in their own pool: a slow Twilio never delays the
        # database work of the webhooks (which uses the loop's default pool).
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="twilio-send")

    async def close(self) -> None:
        self._pool.shutdown(wait=False)

    async def send(self, message: queue.OutboundSnapshot) -> SendOutcome:
        if not message.address:
            raise PermanentSendError("the person has no WhatsApp address (erased?)")
        arguments, template = self._arguments(message)
        loop = asyncio.get_running_loop()
        try:
            created = await loop.run_in_executor(
                self._pool, lambda: self.client.messages.create(**arguments)
            )
        except TwilioRestException as error:
            detail = f"Twilio {error.status} (code {error.code}): {error.msg}"
            if error.status == 429 or error.status >= 500:
                raise TransientSendError(detail) from None
            raise PermanentSendError(detail) from None
        except (requests.RequestException, TwilioException) as error:
            raise TransientSendError(f"Twilio unreachable: {type(error).__name__}") from None
        return SendOutcome(provider_message_id=created.sid, template=template)

    def _arguments(self, message: queue.OutboundSnapshot) -> tuple[dict[str, Any], dict | None]:
        """Twilio's `messages.create` arguments, and the template used for a follow-up."""
        arguments: dict[str, Any] = {"to": message.address, "from_": self.whatsapp_from}
        if self.status_callback_url:
            arguments["status_callback"] = f"{self.status_callback_url}?outbound={message.id}"
        text = render_choices(message.text, message.buttons)
        template, chosen = message.template, None
        in_window = (
            message.last_inbound_at is not None
            and utcnow() - message.last_inbound_at < SESSION_WINDOW
        )
        if template is None and not in_window:
            if not self.followup_content_sid:
                raise PermanentSendError(
                    "outside WhatsApp's 24-hour window and TWILIO_FOLLOWUP_CONTENT_SID is not set"
                )
            # Templates take one-line variables (no newlines, tabs or runs of spaces).
            template = chosen = {
                "content_sid": self.followup_content_sid,
                "variables": {"1": " ".join(text.split())[:1024]},
            }
        if template is not None:
            arguments["content_sid"] = template["content_sid"]
            if template.get("variables"):
                arguments["content_variables"] = json.dumps(
                    template["variables"], ensure_ascii=False
                )
            return arguments, chosen
        arguments["body"] = text[: MAX_TEXT_LENGTH["whatsapp"]]
        urls = [item["url"] for item in message.media or [] if item.get("url")]
        if urls:
            arguments["media_url"] = urls
        return arguments, None


class WhatsAppInput(ProviderInput):
    """WhatsApp messages from Twilio's webhook, checked, persisted and answered at once."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    # Twilio's form for one message is a few KB (the text is at most 1,600 characters).
    max_body_bytes = 64 * 1024

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        """Secrets come from the environment (credentials.yml only names the channel)."""
        settings = get_settings()
        secrets = {
            "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
            "TWILIO_WHATSAPP_FROM": settings.twilio_whatsapp_from,
        }
        return cls.from_secrets(  # type: ignore[return-value]
            secrets,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            whatsapp_from=settings.twilio_whatsapp_from,
            base_url=settings.twilio_base_url,
            public_url=settings.public_url,
            followup_content_sid=settings.twilio_followup_content_sid,
        )

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        whatsapp_from: str | None = None,
        base_url: str = "https://api.twilio.com",
        public_url: str | None = None,
        followup_content_sid: str | None = None,
        disabled_reason: str | None = None,
    ) -> None:
        super().__init__(disabled_reason)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.whatsapp_from = whatsapp_from
        self.base_url = base_url
        self.public_url = public_url.rstrip("/") if public_url else None
        self.followup_content_sid = followup_content_sid
        self.validator = RequestValidator(auth_token) if auth_token else None

    def sender(self) -> Sender:
        return WhatsAppSender(
            account_sid=self.account_sid or "",
            auth_token=self.auth_token or "",
            whatsapp_from=self.whatsapp_from or "",
            base_url=self.base_url,
            status_callback_url=(
                f"{self.public_url}/webhooks/whatsapp/status" if self.public_url else None
            ),
            followup_content_sid=self.followup_content_sid,
        )

    def output(self, inbound_id: int | None, delivery: Delivery | None) -> OutboxOutput:
        return WhatsAppOutput(inbound_id, delivery)

    # ------------------------------------------------------------ webhooks

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: PUBLIC_URL + path behind a proxy, else the request's."""
        if not self.public_url:
            return request.url
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{self.public_url}{request.path}{query}"

    def is_signed(self, request: Request, fields: RequestParameters) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or self.validator is None:
            reason = "missing"
        elif self.validator.validate(self.signed_url(request), fields, signature):
            return True
        else:
            reason = "invalid"
        # Never the body: it carries the phone number.
        logger.warning(
            "Rejected a WhatsApp request to %s: %s X-Twilio-Signature", request.path, reason
        )
        return False

    async def webhook(self, request: Request) -> HTTPResponse:
        fields = form_fields(request)
        if not self.is_signed(request, fields):
            return response.text("invalid signature", status=403)
        form = {key: values[0] for key, values in fields.items()}
        message_sid = form.get("MessageSid") or form.get("SmsMessageSid")
        address = form.get("From")
        if not message_sid or not address:
            return response.text("MessageSid and From are required", status=400)
        media = []
        for index in range(_int(form.get("NumMedia"))):
            content_type = form.get(f"MediaContentType{index}")
            media.append(
                {
                    "kind": media_kind(content_type),
                    "url": form.get(f"MediaUrl{index}"),
                    "content_type": content_type,
                }
            )
        location = None
        if form.get("Latitude") and form.get("Longitude"):
            location = {"latitude": form["Latitude"], "longitude": form["Longitude"]}
            for extra in ("Address", "Label"):
                if form.get(extra):
                    location[extra.lower()] = form[extra]
        inbound_id = await spool.record(
            "inbound",
            channel=self.name(),
            provider_message_id=message_sid,
            person_id=pseudonym(self.name(), address),
            address=address,
            text=form.get("ButtonText") or form.get("Body") or None,
            payload=form.get("ButtonPayload") or None,
            media=media,
            location=location,
            claim_for=self.worker.claim_for(),
        )
        if inbound_id is None:
            logger.info("WhatsApp message %s received again; already in the inbox", message_sid)
        self.worker.inbox_recorded(inbound_id)
        return response.text(EMPTY_TWIML, content_type="text/xml")

    def extra_routes(self, blueprint: Blueprint) -> None:
        @blueprint.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            """Twilio's status callback: queued, sent, delivered, read, failed..."""
            fields = form_fields(request)
            if not self.is_signed(request, fields):
                return response.text("invalid signature", status=403)
            form = {key: values[0] for key, values in fields.items()}
            outbound = request.args.get("outbound")
            error_code = form.get("ErrorCode")
            await in_session(
                queue.record_delivery_status,
                status=(form.get("MessageStatus") or "").lower(),
                message_id=int(outbound) if outbound and outbound.isdigit() else None,
                provider_message_id=form.get("MessageSid"),
                error=f"Twilio error {error_code}" if error_code else None,
            )
            return response.empty(status=204)

    # ------------------------------------------------------------ to Rasa

    async def read_text(self, message: queue.InboundSnapshot, metadata: dict[str, Any]) -> str:
        """A short reply to numbered choices ("2", "jouj") is the chosen button's payload;
        anything else is text (never an intent typed as `/intent`)."""
        text = typed_text(message.text)
        if text and len(text) <= LONGEST_CHOICE_REPLY:
            buttons = await in_session(queue.buttons_offered_before, message)
            chosen = choice_payload(text, buttons)
            if chosen:
                metadata["chosen_from"] = text
                return chosen
        return text


def form_fields(request: Request) -> RequestParameters:
    """The posted fields, blank ones included: Twilio signs `Body=` of a media message too
    (Sanic's `request.form` drops blank values, which breaks the signature)."""
    if "application/x-www-form-urlencoded" not in (request.content_type or ""):
        return RequestParameters()
    body = request.body.decode("utf-8", errors="replace")
    return RequestParameters(parse_qs(body, keep_blank_values=True))


def _int(value: str | None) -> int:
    try:
        return max(0, min(int(value or 0), 10))
    except ValueError:
        return 0
