"""The local web chat (`/chat` on the dashboard) as a channel like the others.

Unlike Rasa's REST channel, which answers in the HTTP response, the web chat goes through
the inbox and the outbox, so a counsellor who takes over from the dashboard reaches the
person in the browser too: the page posts messages to `/webhooks/webchat/webhook` and
polls `/webhooks/webchat/messages` for the conversation: what the person wrote (so it
survives a page reload; a tapped button shows its title) and everything sent to them (bot
and counsellor), in order, and whether the person's last message is still being
answered (`pending`: the typing indicator stops when the bot stays silent, e.g. while a
counsellor holds the conversation).

The browser's random id (kept in localStorage) is the only secret: anyone who has it can
read that conversation, as with any anonymous chat widget.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels import queue, spool
from bot.channels.base import Delivery, OutboxOutput, ProviderInput
from bot.channels.identity import BROWSER_ID, pseudonym
from bot.channels.sending import Sender, SendOutcome
from bot.channels.text import MAX_INBOUND_TEXT
from bot.privacy.erasure import after_pickup
from bot.storage.db import in_session
from bot.storage.models import InboundMessage, OutboundMessage

MAX_MESSAGE_LENGTH = MAX_INBOUND_TEXT
MAX_BUTTON_TITLE = 200


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


POLL_LIMIT = 50  # rows of each kind a poll returns
HISTORY_LIMIT = 1000  # on a page load (after=0): the whole conversation, in order


def messages_for(
    session: Session, *, person_id: str, after: int, after_mine: int | None = None
) -> list[dict[str, Any]]:
    """Messages sent to the person after outbox id `after`, and, when `after_mine` is
    given, the person's own messages after inbox id `after_mine`, in the order they were
    written. Each has `id` (the row's id), `author` (person, bot, counsellor, system),
    `text` and `buttons`; the person's own also `message_id` (the browser's id)."""
    limit = HISTORY_LIMIT if after == 0 and after_mine == 0 else POLL_LIMIT
    rows = session.execute(
        select(OutboundMessage)
        .where(OutboundMessage.person_id == person_id, OutboundMessage.id > after)
        .where(OutboundMessage.status.not_in(("failed",)))
        .order_by(OutboundMessage.id)
        .limit(limit)
    ).scalars()
    timed = [
        (row.created_at, 1, {"id": row.id, "author": row.author, "text": row.text,
                             "buttons": row.buttons or []})
        for row in rows
    ]  # fmt: skip
    messages = [m for _, _, m in timed]
    # The browser has these now: an erased person's last message can go (bot.privacy).
    after_pickup(
        session, person_id=person_id, fetched_up_to=max([after, *(m["id"] for m in messages)])
    )
    if after_mine is None:
        return messages
    mine = session.execute(
        select(InboundMessage)
        .where(InboundMessage.person_id == person_id, InboundMessage.id > after_mine)
        .order_by(InboundMessage.id)
        .limit(limit)
    ).scalars()
    timed += [
        (row.received_at, 0, {"id": row.id, "author": "person", "text": row.text,
                              "buttons": [], "message_id": row.provider_message_id})
        for row in mine
    ]  # fmt: skip
    timed.sort(key=lambda item: (item[0], item[1]))
    return [m for _, _, m in timed]


def is_pending(session: Session, *, person_id: str) -> bool:
    """Whether a message of the person is still waiting for its turn or being answered."""
    return (
        session.execute(
            select(InboundMessage.id)
            .where(InboundMessage.person_id == person_id)
            .where(InboundMessage.status.in_(("pending", "processing")))
            .limit(1)
        ).first()
        is not None
    )


def conversation(
    session: Session, *, person_id: str, after: int, after_mine: int | None
) -> dict[str, Any]:
    return {
        "messages": messages_for(session, person_id=person_id, after=after, after_mine=after_mine),
        "pending": is_pending(session, person_id=person_id),
    }


class WebchatInput(ProviderInput):
    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebchatInput:
        return cls()

    def sender(self) -> Sender:
        return BrowserPickup()

    def output(self, inbound_id: int | None, delivery: Delivery | None) -> OutboxOutput:
        return WebchatOutput(inbound_id, delivery)

    async def webhook(self, request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        browser = str(body.get("sender") or "")
        message_id = str(body.get("message_id") or "")
        text = str(body.get("message") or "").strip()[:MAX_MESSAGE_LENGTH]
        if not BROWSER_ID.match(browser) or not BROWSER_ID.match(message_id) or not text:
            return response.json({"error": "sender, message_id and message are required"}, 400)
        # A tapped button: Rasa reads its payload, the transcript and the page its title.
        title = str(body.get("title") or "").strip()[:MAX_BUTTON_TITLE]
        payload = text if text.startswith("/") and title else None
        inbound_id = await spool.record(
            "inbound",
            channel=self.name(),
            provider_message_id=message_id,
            person_id=pseudonym(self.name(), browser),
            address=None,
            text=title if payload else text,
            payload=payload,
            claim_for=self.worker.claim_for(),
        )
        self.worker.inbox_recorded(inbound_id)
        return response.json({"ok": True})

    def extra_routes(self, blueprint: Blueprint) -> None:
        @blueprint.route("/messages", methods=["GET"])
        async def messages(request: Request) -> HTTPResponse:
            browser = request.args.get("sender") or ""
            after = request.args.get("after") or "0"
            # after_mine: the page also wants the person's own messages (page load)
            after_mine = request.args.get("after_mine")
            if (
                not BROWSER_ID.match(browser)
                or not after.isdigit()
                or (after_mine is not None and not after_mine.isdigit())
            ):
                return response.json({"error": "sender and after are required"}, 400)
            found = await in_session(
                conversation,
                person_id=pseudonym(self.name(), browser),
                after=int(after),
                after_mine=None if after_mine is None else int(after_mine),
            )
            return response.json(found)
