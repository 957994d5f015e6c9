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

from bot.channels.text import MAX_TEXT_LENGTH, render_choices, split_text
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
    """Queue a message for delivery (idempotent when `idempotency_key` is given).

    A text too long for one provider message is queued as several rows (cut between
    sentences, buttons on the last one), delivered in order; the first row is returned.
    The caller commits; the Rasa server's delivery worker picks the rows up within
    `BOUSLA_CHANNEL_POLL_SECONDS` (at once for bot replies).
    """
    rows, _created = queue_message(
        session,
        person_id=person_id,
        channel=channel,
        text=text,
        buttons=buttons,
        media=media,
        template=template,
        author=author,
        counsellor_id=counsellor_id,
        handoff_id=handoff_id,
        idempotency_key=idempotency_key,
    )
    return rows[0]


def queue_message(
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
) -> tuple[list[OutboundMessage], bool]:
    """`enqueue_message`'s rows, in delivery order, and whether they were created now
    (False: the first row, queued before under the same idempotency key)."""
    if idempotency_key:
        existing = session.execute(
            select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
        ).scalar_one_or_none()
        if existing is not None:
            return [existing], False
    parts = _parts(channel, text, buttons)
    rows = []
    now = utcnow()
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        key = idempotency_key
        if key and index:
            key = f"{idempotency_key}#{index + 1}"
        rows.append(
            OutboundMessage(
                person_id=person_id,
                channel=channel,
                text=part,
                buttons=(buttons or None) if last else None,
                media=(media or None) if index == 0 else None,
                template=template,
                author=author,
                counsellor_id=counsellor_id,
                handoff_id=handoff_id,
                idempotency_key=key,
                status="pending",
                created_at=now,
                next_attempt_at=now,
            )
        )
    for row in rows:
        session.add(row)
        session.flush()  # ids in order: the delivery order of the parts
    return rows, True


def _parts(channel: str, text: str | None, buttons: list[dict] | None) -> list[str | None]:
    limit = MAX_TEXT_LENGTH.get(channel)
    if not text or limit is None:
        return [text]
    if channel == "whatsapp" and buttons:
        limit -= len(render_choices("", buttons)) + 2  # the choices go after the last part
    return split_text(text, limit) or [text]


@dataclass(frozen=True)
class TranscriptEntry:
    at: datetime
    author: str  # person | bot | counsellor | system
    text: str | None
    media: list[dict] | None = None
    buttons: list[dict] | None = None
    status: str | None = None  # delivery status of outbound messages
    counsellor_id: int | None = None


def conversation_rows(
    session: Session, *, person_id: str, since: datetime | None = None
) -> list[InboundMessage | OutboundMessage]:
    """The person's conversation as stored: what they wrote (inbox rows, at reception) and
    what was sent to them (outbox rows, at creation), oldest first."""
    inbound = select(InboundMessage).where(InboundMessage.person_id == person_id)
    outbound = select(OutboundMessage).where(OutboundMessage.person_id == person_id)
    if since is not None:
        inbound = inbound.where(InboundMessage.received_at > since)
        outbound = outbound.where(OutboundMessage.created_at > since)
    rows: list[InboundMessage | OutboundMessage] = list(session.execute(inbound).scalars())
    rows += session.execute(outbound).scalars()
    return sorted(rows, key=_at)


def _at(row: InboundMessage | OutboundMessage) -> datetime:
    return row.received_at if isinstance(row, InboundMessage) else row.created_at


def transcript(
    session: Session, *, person_id: str, since: datetime | None = None
) -> list[TranscriptEntry]:
    """The person's conversation (what they wrote, what was sent to them), oldest first."""
    return [_entry(row) for row in conversation_rows(session, person_id=person_id, since=since)]


def _entry(row: InboundMessage | OutboundMessage) -> TranscriptEntry:
    if isinstance(row, InboundMessage):
        return TranscriptEntry(
            at=row.received_at,
            author="person",
            text=row.text if row.text is not None else row.payload,
            media=row.media,
        )
    return TranscriptEntry(
        at=row.created_at,
        author=row.author,
        text=row.text,
        media=row.media,
        buttons=row.buttons,
        status=row.status,
        counsellor_id=row.counsellor_id,
    )
