"""The local web chat (`/chat` on the dashboard) as a channel like the others.

Unlike Rasa's REST channel, which answers in the HTTP response, the web chat goes through
the inbox and the outbox, so a counsellor who takes over from the dashboard reaches the
person in the browser too: the page posts messages to `/webhooks/webchat/webhook` and
polls `/webhooks/webchat/messages` for everything sent to it (bot and counsellor).

The browser's random id (kept in localStorage) is the only secret: anyone who has it can
read that conversation, as with any anonymous chat widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import queue, spool
from bot.channels.base import OutboxOutput, ProviderInput
from bot.channels.identity import BROWSER_ID, pseudonym
from bot.channels.sending import Sender, SendOutcome
from bot.channels.text import MAX_INBOUND_TEXT
from bot.channels.worker import get_worker
from bot.privacy.erasure import after_pickup
from bot.storage.db import in_session
from bot.storage.models import OutboundMessage

MAX_MESSAGE_LENGTH = MAX_INBOUND_TEXT


class WebchatOutput(OutboxOutput):
    @classmethod
    def name(cls) -> str:
        return "webchat"


class BrowserPickup(Sender):
    """Nothing to call: the browser fetches its messages. Marking the row sent keeps the
    outbox's order and statuses the same as for the other channels."""

    channel = "webchat"

    async def send(self, message: queue.OutboundSnapshot) -> SendOutcome:
        return SendOutcome(provider_message_id=None)


def messages_for(session: Session, *, person_id: str, after: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.person_id == person_id, OutboundMessage.id > after)
        .where(OutboundMessage.status.not_in(("failed",)))
        .order_by(OutboundMessage.id)
        .limit(50)
    ).scalars()
    messages = [
        {"id": row.id, "author": row.author, "text": row.text, "buttons": row.buttons or []}
        for row in rows
    ]
    # The browser has these now: an erased person's last message can go (bot.privacy).
    after_pickup(
        session, person_id=person_id, fetched_up_to=max([after, *(m["id"] for m in messages)])
    )
    return messages


class WebchatInput(ProviderInput):
    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebchatInput:
        return cls()

    def sender(self) -> Sender:
        return BrowserPickup()

    def output(
        self, inbound_id: int | None, on_enqueued: Callable[[], None] | None
    ) -> OutboxOutput:
        return WebchatOutput(inbound_id, on_enqueued)

    async def webhook(self, request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        browser = str(body.get("sender") or "")
        message_id = str(body.get("message_id") or "")
        text = str(body.get("message") or "").strip()[:MAX_MESSAGE_LENGTH]
        if not BROWSER_ID.match(browser) or not BROWSER_ID.match(message_id) or not text:
            return response.json({"error": "sender, message_id and message are required"}, 400)
        inbound_id = await spool.record(
            "inbound",
            channel=self.name(),
            provider_message_id=message_id,
            person_id=pseudonym(self.name(), browser),
            address=None,
            text=text,
        )
        if inbound_id is not None and inbound_id is not spool.SPOOLED:
            get_worker().wake_inbox()
        return response.json({"ok": True})

    def extra_routes(self, blueprint: Blueprint) -> None:
        @blueprint.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            browser = request.args.get("sender") or ""
            after = request.args.get("after") or "0"
            if not BROWSER_ID.match(browser) or not after.isdigit():
                return response.json({"error": "sender and after are required"}, 400)
            found = await in_session(
                messages_for, person_id=pseudonym(self.name(), browser), after=int(after)
            )
            return response.json({"messages": found})
