"""The inbox and the outbox as work queues: record, claim with a lease, finish.

Rows are claimed by whoever runs a delivery worker (one per Rasa server replica). A claim
sets a lease (`lease_until`), renewed while the work goes on; a replica that dies leaves
rows whose lease expires, and any worker takes them up again. Claiming is safe with
several replicas: candidates are locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL
(SQLite has a single writer anyway), and each claim is a conditional UPDATE that only
one claimer can win (rowcount 1).

Order: only the oldest unfinished row of each person can be claimed (its "head"), so a
person's messages are processed, and their replies sent, one at a time, oldest first.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.channels.outbound import queue_message
from bot.channels.text import MAX_INBOUND_TEXT
from bot.storage import leases
from bot.storage.models import InboundMessage, OutboundMessage, Person, utcnow
from bot.storage.people import ensure_person

logger = logging.getLogger(__name__)

INBOX_UNFINISHED = ("pending", "processing")
OUTBOX_UNFINISHED = ("pending", "sending")
# Outbox statuses in the order a message goes through them; a late status callback never
# moves a message back (e.g. "sent" arriving after "delivered").
DELIVERY_PROGRESS = ("pending", "sending", "queued", "sent", "delivered", "read")
DELIVERY_FAILURES = ("failed", "undelivered")


@dataclass(frozen=True)
class InboundSnapshot:
    """An inbox row as the worker needs it, detached from any session."""

    id: int
    channel: str
    provider_message_id: str
    person_id: str
    text: str | None
    payload: str | None
    media: list[dict] | None
    location: dict | None
    attempts: int
    received_at: datetime
    # Processed before (a crash, a failure, a store outage): Rasa may already have it.
    tried_before: bool = False


@dataclass(frozen=True)
class OutboundSnapshot:
    """An outbox row with what a sender needs to deliver it."""

    id: int
    person_id: str
    channel: str
    address: str | None
    text: str | None
    buttons: list[dict] | None
    media: list[dict] | None
    template: dict | None
    attempts: int
    created_at: datetime
    last_inbound_at: datetime | None


def _claim_heads(
    session: Session,
    model: type[InboundMessage] | type[OutboundMessage],
    *,
    unfinished: tuple[str, ...],
    claimable: ColumnElement,
    channels: list[str],
    limit: int,
    lease_seconds: float,
    now: datetime,
    status: str,
    person_id: str | None = None,
) -> list[int]:
    """Claim, for up to `limit` people (or only `person_id`), their oldest unfinished row if
    it is claimable now (a person's rows are handled one at a time, oldest first); the ids
    won."""
    heads = select(func.min(model.id)).where(
        model.status.in_(unfinished), model.channel.in_(channels)
    )
    if person_id is not None:
        heads = heads.where(model.person_id == person_id)
    heads = heads.group_by(model.person_id)
    return leases.claim(
        session,
        model,
        candidates=select(model.id)
        .where(model.id.in_(heads), claimable)
        .order_by(model.id)
        .limit(limit),
        claimable=claimable,
        lease_seconds=lease_seconds,
        now=now,
        status=status,
    )


def _claim_new_head(
    session: Session,
    model: type[InboundMessage] | type[OutboundMessage],
    row: InboundMessage | OutboundMessage,
    unfinished: tuple[str, ...],
    status: str,
    lease_seconds: float,
    behind: Collection[int] = (),
) -> bool:
    """Claim `row`, just added in this transaction, if no older row of its person is
    unfinished, except rows in `behind` still in `status` (rows the caller's worker holds
    and delivers in order before this one). The person's row is locked first
    (PostgreSQL), so that two of their messages stored at once in two replicas are never
    both taken as the oldest. (NO KEY UPDATE, the lock an UPDATE of the person takes: a
    stronger one would wait for, and deadlock with, transactions that merely insert rows
    referring to the person.)"""
    session.execute(
        select(Person.id).where(Person.id == row.person_id).with_for_update(key_share=True)
    )
    older = select(model.id).where(
        model.person_id == row.person_id,
        model.status.in_(unfinished),
        model.id < row.id,
        model.channel == row.channel,
    )
    if behind:
        # A held row that went back to the queue (a failed send) is waited for again.
        older = older.where(or_(model.id.not_in(list(behind)), model.status != status))
    if session.execute(older.limit(1)).first() is not None:
        return False
    _claim_added(row, status, lease_seconds)
    session.flush()
    return True


def _claim_added(row: InboundMessage | OutboundMessage, status: str, lease_seconds: float) -> None:
    row.status = status
    row.attempts = (row.attempts or 0) + 1
    row.lease_until = utcnow() + timedelta(seconds=lease_seconds)


# ---------------------------------------------------------------- inbox


def storable(value: Any) -> Any:
    """`value` with what no database column can hold removed: NUL characters (PostgreSQL
    refuses them in text and JSON) and lone surrogates. Found by tests/test_fuzz.py."""
    if isinstance(value, str):
        cleaned = value.replace("\x00", "")
        return cleaned.encode("utf-8", errors="replace").decode("utf-8")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(storable(item) for item in value)
    return value


class ClaimedInbound(int):
    """What `record_inbound` returns for a message claimed in the same transaction: its id,
    and the snapshot the worker of this process starts on at once."""

    snapshot: InboundSnapshot

    def __new__(cls, snapshot: InboundSnapshot) -> ClaimedInbound:
        claimed = super().__new__(cls, snapshot.id)
        claimed.snapshot = snapshot
        return claimed


def record_inbound(
    session: Session,
    *,
    channel: str,
    provider_message_id: str,
    person_id: str,
    address: str | None,
    text: str | None = None,
    payload: str | None = None,
    media: list[dict] | None = None,
    location: dict | None = None,
    claim_for: float | None = None,
) -> int | None:
    """Persist an incoming message; its id, or None when this provider id was seen before.

    Commits. A replayed webhook (same channel and provider message id) changes nothing.
    With `claim_for` (lease seconds), the message is also claimed in the same transaction
    when it is its person's oldest unfinished one (the usual case: people wait for the
    answer), and a `ClaimedInbound` is returned: the caller's worker starts on it at once,
    with no claim of its own. Otherwise it waits in the inbox to be claimed as usual.
    """
    provider_message_id, person_id, address, text, payload, media, location = storable(
        (provider_message_id, person_id, address, text, payload, media, location)
    )
    if text and len(text) > MAX_INBOUND_TEXT:
        text = text[:MAX_INBOUND_TEXT]  # NLU reads the start and tells the person
    for attempt in range(3):
        try:
            person = ensure_person(session, person_id=person_id, channel=channel, address=address)
            person.last_inbound_at = utcnow()
            message = InboundMessage(
                channel=channel,
                provider_message_id=provider_message_id,
                person_id=person_id,
                text=text,
                payload=payload,
                media=media or None,
                location=location,
                received_at=utcnow(),
                status="pending",
                attempts=0,
            )
            session.add(message)
            session.flush()
            claimed = claim_for is not None and _claim_new_head(
                session, InboundMessage, message, INBOX_UNFINISHED, "processing", claim_for
            )
            session.commit()
            if not claimed:
                return message.id
            return ClaimedInbound(
                InboundSnapshot(
                    id=message.id,
                    channel=channel,
                    provider_message_id=provider_message_id,
                    person_id=person_id,
                    text=text,
                    payload=payload,
                    media=message.media,
                    location=location,
                    attempts=message.attempts,
                    received_at=message.received_at,
                )
            )
        except IntegrityError:
            session.rollback()
            duplicate = session.execute(
                select(InboundMessage.id).where(
                    InboundMessage.channel == channel,
                    InboundMessage.provider_message_id == provider_message_id,
                )
            ).first()
            if duplicate is not None:
                return None
            if attempt == 2:
                raise
            # Two first messages of a new person at once: the other one created the person.
    return None


def claim_inbound(
    session: Session,
    *,
    channels: list[str],
    limit: int,
    lease_seconds: float,
    person_id: str | None = None,
) -> list[InboundSnapshot]:
    """Claim up to `limit` inbox rows (one per person, the oldest unfinished; only
    `person_id`'s if given); commits."""
    now = utcnow()
    claimable = or_(
        InboundMessage.status == "pending",
        and_(InboundMessage.status == "processing", InboundMessage.lease_until < now),
    )
    claimed = _claim_heads(
        session,
        InboundMessage,
        unfinished=INBOX_UNFINISHED,
        claimable=claimable,
        channels=channels,
        limit=limit,
        lease_seconds=lease_seconds,
        now=now,
        status="processing",
        person_id=person_id,
    )
    snapshots = [
        InboundSnapshot(
            id=row.id,
            channel=row.channel,
            provider_message_id=row.provider_message_id,
            person_id=row.person_id,
            text=row.text,
            payload=row.payload,
            media=row.media,
            location=row.location,
            attempts=row.attempts,
            received_at=row.received_at,
            tried_before=row.attempts > 1 or row.error is not None,
        )
        for row in leases.rows(session, InboundMessage, claimed)
    ]
    session.commit()
    return snapshots


def finish_inbound(session: Session, message_id: int) -> None:
    leases.release(
        session, InboundMessage, message_id, status="done", processed_at=utcnow(), error=None
    )
    session.commit()


def finish_inbound_and_claim_next(
    session: Session, message: InboundSnapshot, *, lease_seconds: float
) -> InboundSnapshot | None:
    """`finish_inbound`, and in the same transaction the claim of the person's next message
    if one is waiting (written while this one was processed); commits."""
    leases.release(
        session, InboundMessage, message.id, status="done", processed_at=utcnow(), error=None
    )
    claimed = claim_inbound(
        session,
        channels=[message.channel],
        limit=1,
        lease_seconds=lease_seconds,
        person_id=message.person_id,
    )
    return claimed[0] if claimed else None


def retry_inbound_later(
    session: Session,
    message_id: int,
    *,
    error: str,
    delay_seconds: float,
    max_attempts: int,
    count_attempt: bool = True,
) -> str:
    """After a failure: try again once the delay has passed (the row keeps the person's
    later messages waiting), or give up after `max_attempts`. Returns the new status.

    `count_attempt=False` (a store was down, not the message's fault): the attempt is
    taken back and the message is never given up for it (`error` still records that it
    was tried, so that the worker checks Rasa's tracker before processing it again).
    """
    row = session.get(InboundMessage, message_id)
    if row is None:
        return "gone"
    status = leases.retry_or_give_up(
        row,
        error=error,
        max_attempts=max_attempts,
        delay_seconds=lambda _attempts: delay_seconds,
        count_attempt=count_attempt,
        status="processing",  # claimable again when the lease runs out
    )
    session.commit()
    return status


def renew_leases(
    session: Session, *, inbound_ids: list[int], outbound_ids: list[int], lease_seconds: float
) -> None:
    leases.renew(
        session, InboundMessage, inbound_ids, status="processing", lease_seconds=lease_seconds
    )
    leases.renew(
        session, OutboundMessage, outbound_ids, status="sending", lease_seconds=lease_seconds
    )
    session.commit()


def buttons_offered_before(session: Session, message: InboundSnapshot) -> list[dict] | None:
    """The buttons of the last message that offered some in answer to the person's
    previous message (what a reply such as "2" refers to), if any."""
    previous = session.execute(
        select(func.max(InboundMessage.received_at)).where(
            InboundMessage.person_id == message.person_id, InboundMessage.id < message.id
        )
    ).scalar()
    query = select(OutboundMessage.buttons).where(
        OutboundMessage.person_id == message.person_id,
        OutboundMessage.buttons.is_not(None),
        OutboundMessage.created_at <= message.received_at,
    )
    if previous is not None:
        query = query.where(OutboundMessage.created_at >= previous)
    buttons = session.execute(query.order_by(OutboundMessage.id.desc()).limit(1)).scalar()
    return buttons or None


# ---------------------------------------------------------------- outbox

_STILL_SENDING = OutboundMessage.status == "sending"


def claim_outbound(
    session: Session,
    *,
    channels: list[str],
    limit: int,
    lease_seconds: float,
    person_id: str | None = None,
) -> list[OutboundSnapshot]:
    """Claim up to `limit` outbox rows that are due (one per person, oldest first; only
    `person_id`'s if given); commits."""
    now = utcnow()
    claimable = or_(
        and_(OutboundMessage.status == "pending", OutboundMessage.next_attempt_at <= now),
        and_(OutboundMessage.status == "sending", OutboundMessage.lease_until < now),
    )
    claimed = _claim_heads(
        session,
        OutboundMessage,
        unfinished=OUTBOX_UNFINISHED,
        claimable=claimable,
        channels=channels,
        limit=limit,
        lease_seconds=lease_seconds,
        now=now,
        status="sending",
        person_id=person_id,
    )
    snapshots = []
    if claimed:
        rows = session.execute(
            select(OutboundMessage, Person.address, Person.last_inbound_at)
            .join(Person, Person.id == OutboundMessage.person_id)
            .where(OutboundMessage.id.in_(claimed))
            .order_by(OutboundMessage.id)
        ).all()
        snapshots = [
            _outbound_snapshot(row, address, last_inbound_at)
            for row, address, last_inbound_at in rows
        ]
    session.commit()
    return snapshots


def _outbound_snapshot(
    row: OutboundMessage, address: str | None, last_inbound_at: datetime | None
) -> OutboundSnapshot:
    return OutboundSnapshot(
        id=row.id,
        person_id=row.person_id,
        channel=row.channel,
        address=address,
        text=row.text,
        buttons=row.buttons,
        media=row.media,
        template=row.template,
        attempts=row.attempts,
        created_at=row.created_at,
        last_inbound_at=last_inbound_at,
    )


def enqueue_and_claim(
    session: Session, *, claim_for: float, behind: Collection[int] = (), **message: Any
) -> list[OutboundSnapshot]:
    """`enqueue_message`; when the new rows (a long text is several) are their person's
    next ones, they are claimed in the same transaction and their snapshots returned, in
    order, for the caller's worker to send at once. Next ones: nothing older is
    unfinished, or only rows in `behind`, which the caller's worker holds and sends in
    order before these (a turn's earlier replies). Commits."""
    rows, created = queue_message(session, **message)
    snapshots = []
    if created and _claim_new_head(
        session, OutboundMessage, rows[0], OUTBOX_UNFINISHED, "sending", claim_for, behind
    ):
        for part in rows[1:]:
            _claim_added(part, "sending", claim_for)
        session.flush()
        person = session.execute(
            select(Person.address, Person.last_inbound_at).where(Person.id == rows[0].person_id)
        ).one()
        snapshots = [
            _outbound_snapshot(row, person.address, person.last_inbound_at) for row in rows
        ]
    session.commit()
    return snapshots


def release_unsent(session: Session, message_ids: Collection[int]) -> None:
    """Rows a worker held to send after one whose send failed: back to the queue, due at
    once and behind that one (only the oldest unfinished row of a person is claimed), with
    the claim that never sent them not counted as an attempt. Commits."""
    if message_ids:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id.in_(list(message_ids)), _STILL_SENDING)
            .values(
                status="pending",
                lease_until=None,
                next_attempt_at=utcnow(),
                attempts=OutboundMessage.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
    session.commit()


def mark_sent(
    session: Session,
    message_id: int,
    *,
    provider_message_id: str | None,
    template: dict | None,
    commit: bool = True,
) -> None:
    values: dict = {
        "provider_message_id": provider_message_id,
        "sent_at": utcnow(),
        "error": None,
        # A status callback may already have said more ("delivered"): never step back.
        "status": case((OutboundMessage.status == "sending", "sent"), else_=OutboundMessage.status),
    }
    if template is not None:
        values["template"] = template
    leases.release(session, OutboundMessage, message_id, **values)
    if commit:
        session.commit()


def retry_outbound_later(
    session: Session, message_id: int, *, error: str, delay_seconds: float, give_up: bool
) -> str:
    """A failed attempt that may succeed later: back to pending at `now + delay`, or
    failed for good when `give_up`. Returns the new status."""
    if give_up:
        leases.give_up(session, OutboundMessage, message_id, error=error, where=[_STILL_SENDING])
    else:
        leases.release(
            session,
            OutboundMessage,
            message_id,
            where=[_STILL_SENDING],
            status="pending",
            error=error[: leases.MAX_ERROR_LENGTH],
            next_attempt_at=utcnow() + timedelta(seconds=delay_seconds),
        )
    session.commit()
    return "failed" if give_up else "pending"


def mark_failed(session: Session, message_id: int, *, error: str) -> None:
    leases.give_up(session, OutboundMessage, message_id, error=error)
    session.commit()


def record_delivery_status(
    session: Session,
    *,
    status: str,
    message_id: int | None = None,
    provider_message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Apply a provider's status report (sent, delivered, read, failed, undelivered).

    Found by outbox id when the callback URL carries it, else by provider id. A report
    that would move a message backwards is ignored. Returns whether a row was found.
    """
    query = select(OutboundMessage)
    if message_id is not None:
        query = query.where(OutboundMessage.id == message_id)
    elif provider_message_id:
        query = query.where(OutboundMessage.provider_message_id == provider_message_id)
    else:
        return False
    row = session.execute(query).scalars().first()
    if row is None:
        return False
    if provider_message_id and row.provider_message_id is None:
        row.provider_message_id = provider_message_id
    if status in DELIVERY_FAILURES:
        row.status = status
        row.error = error or status
    elif (
        status in DELIVERY_PROGRESS
        and row.status in DELIVERY_PROGRESS
        and DELIVERY_PROGRESS.index(status) > DELIVERY_PROGRESS.index(row.status)
    ):
        row.status = status
        if status == "delivered":
            row.delivered_at = utcnow()
    session.commit()
    return True
