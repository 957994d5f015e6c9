"""The one outbound path: every message to a person goes through the outbox.

Bot replies (from the channels' output channels), counsellors' replies (from the
dashboard) and follow-ups all call `enqueue_message`. The row is the transcript entry
and the delivery job at once: a sender for its channel delivers it, with retries, and
records the provider's id and delivery status on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import InboundMessage, OutboundMessage, utcnow


def enqueue_message(
    session: Session,
    *,
    person_id: str,
    channel: str,
    text: str | None = None,
    buttons: list[dict] | None = None,
    media: list[dict] | None = None,
    template: dict | None = None,
    author: str = "bot",
    counsellor_id: int | None = None,
    handoff_id: int | None = None,
    idempotency_key: str | None = None,
) -> OutboundMessage:
    """Queue a message for delivery (idempotent when `idempotency_key` is given)."""
    if idempotency_key:
        existing = session.execute(
            select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if existing is not None:
            return existing
    message = OutboundMessage(
        person_id=person_id,
        channel=channel,
        text=text,
        buttons=buttons or None,
        media=media or None,
        template=template,
        author=author,
        counsellor_id=counsellor_id,
        handoff_id=handoff_id,
        idempotency_key=idempotency_key,
        status="pending",
        created_at=utcnow(),
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class TranscriptEntry:
    at: datetime
    author: str  # person | bot | counsellor | system
    text: str | None
    media: list[dict] | None = None
    buttons: list[dict] | None = None
    status: str | None = None  # delivery status of outbound messages
    counsellor_id: int | None = None


def transcript(
    session: Session, *, person_id: str, since: datetime | None = None
) -> list[TranscriptEntry]:
    """The person's conversation (what they wrote, what was sent to them), oldest first."""
    inbound = select(InboundMessage).where(InboundMessage.person_id == person_id)
    outbound = select(OutboundMessage).where(OutboundMessage.person_id == person_id)
    if since is not None:
        inbound = inbound.where(InboundMessage.received_at > since)
        outbound = outbound.where(OutboundMessage.created_at > since)
    entries = [
        TranscriptEntry(
            at=m.received_at,
            author="person",
            text=m.text if m.text is not None else m.payload,
            media=m.media,
        )
        for m in session.execute(inbound).scalars()
    ]
    entries += [
        TranscriptEntry(
            at=m.created_at,
            author=m.author,
            text=m.text,
            media=m.media,
            buttons=m.buttons,
            status=m.status,
            counsellor_id=m.counsellor_id,
        )
        for m in session.execute(outbound).scalars()
    ]
    return sorted(entries, key=lambda entry: entry.at)
