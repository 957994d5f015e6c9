"""Erasure: deleting the person's row deletes every row about them (every table references
`persons.id` with ON DELETE CASCADE); their events in Rasa's tracker store go too, and
audit entries about their requests lose the link to them. Staff erase with `bousla erase`;
a person erases themself with "supprime mes données" and a yes, at the end of that turn
(`erase_after_turn`, called by Bousla's tracker store).

The last message ("c'est effacé") still has to reach the person: when it is still waiting
in the outbox at the end of the turn, it stays, with the person's row reduced to the
address it is sent to (no profile, no language), until the provider accepts it
(`after_delivery`) or the web chat has fetched it (`after_pickup`). Those rows are marked
`erasure_pending` (and re-keyed `erasure:<pseudonym>:<id>`, which frees the turn's keys);
`bousla purge` removes any left after a day.
"""

from __future__ import annotations

import logging
from collections.abc import Reversible
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    func,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.settings import get_settings
from bot.storage import turn_states
from bot.storage.audit import record
from bot.storage.db import scrub_sqlite, session_scope
from bot.storage.models import AuditEntry, Base, Handoff, OutboundMessage, Person, utcnow
from bot.storage.people import PROFILE_FIELDS

logger = logging.getLogger(__name__)

# Slot set by `action_delete_my_data` when the person said yes to the erasure question.
ERASURE_SLOT = "erasure_confirmed"
# The last message to an erased person, kept only until delivered, is re-keyed
# `erasure:<pseudonym>:<id>`: the turn's keys (`in:<inbound>:<n>`) are free again.
ERASURE_KEY_PREFIX = "erasure:"
# Channels whose "delivery" is the browser fetching its messages (bot.channels.webchat).
PICKUP_CHANNELS = ("webchat",)
# Erasure messages left behind (provider never answered, browser closed) go after this.
ERASURE_LEFTOVER_AGE = timedelta(days=1)
UNFINISHED_OUTBOX = ("pending", "sending")

# Rasa's SQLTrackerStore table (rasa/core/tracker_store.py), without importing Rasa.
_tracker_metadata = MetaData()
TRACKER_EVENTS = Table(
    "events",
    _tracker_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


# ---------------------------------------------------------------- what is about a person


def about_person(session: Session, person_id: str) -> dict[Table, ColumnElement]:
    """For each table, the rows that deleting the person deletes (ON DELETE CASCADE,
    followed through every level: handoffs, then their notes...). Tables are read from
    the models, so a table added later with a cascading key is covered (once migrated)."""
    persons = Person.__table__
    about: dict[Table, ColumnElement] = {persons: persons.c.id == person_id}
    existing = set(inspect(session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:  # parents before children
        if table in about or table.name not in existing:
            continue
        links = [
            fk.parent.in_(select(fk.column).where(about[fk.column.table]))
            for fk in table.foreign_keys
            if (fk.ondelete or "").upper() == "CASCADE" and fk.column.table in about
        ]
        if links:
            about[table] = or_(*links)
    return about


def count_rows(session: Session, table: Table, condition: ColumnElement) -> int:
    return session.execute(select(func.count()).select_from(table).where(condition)).scalar_one()


def rows_per_table(session: Session, about: dict[Table, ColumnElement]) -> dict[str, int]:
    return {table.name: count_rows(session, table, condition) for table, condition in about.items()}


def _unlink_audit(session: Session, person_id: str, handoff_ids: list[int]) -> int:
    """Audit entries about the person or their requests keep what a counsellor did, not
    whom it was about: the target and outbox ids go."""
    targets = [AuditEntry.target_id == person_id]
    if handoff_ids:
        targets.append(
            and_(
                AuditEntry.target_type == "handoff",
                AuditEntry.target_id.in_([str(i) for i in handoff_ids]),
            )
        )
    entries = session.execute(select(AuditEntry).where(or_(*targets))).scalars().all()
    for entry in entries:
        entry.target_id = None
        if entry.details:
            details = {k: v for k, v in entry.details.items() if k != "outbound_id"}
            entry.details = details or None
    session.flush()
    return len(entries)


@dataclass
class Erasure:
    """What an erasure deleted: rows per table, Rasa's tracker (`events`) included."""

    person_id: str
    counts: dict[str, int] = field(default_factory=dict)
    audit_unlinked: int = 0
    kept_for_delivery: int = 0  # outbox rows of the last message, until delivered

    @property
    def found(self) -> bool:
        return any(self.counts.values())

    def summary(self) -> dict[str, int]:
        """Non-zero counts, for the audit log and the staff commands."""
        return {table: count for table, count in sorted(self.counts.items()) if count}


def erase_person(
    session: Session,
    *,
    person_id: str,
    actor: str,
    reason: str,
    tracker: Connection | None = None,
    audit: bool = True,
) -> Erasure:
    """Delete everything about the person in the application database, and their tracker
    events when `tracker` is given (a connection to Rasa's tracker store). The caller
    commits; the audit entry (unless `audit` is False) says what was erased, not whom."""
    about = about_person(session, person_id)
    erasure = Erasure(person_id=person_id, counts=rows_per_table(session, about))
    handoffs = list(session.execute(select(Handoff.id).where(about[Handoff.__table__])).scalars())
    erasure.audit_unlinked = _unlink_audit(session, person_id, handoffs)
    session.execute(
        delete(Person).where(Person.id == person_id).execution_options(synchronize_session=False)
    )
    if tracker is not None:
        erasure.counts[TRACKER_EVENTS.name] = delete_tracker_events(tracker, person_id)
    if audit and erasure.found:
        _record_erasure(session, erasure, actor=actor, reason=reason)
    return erasure


def _record_erasure(session: Session, erasure: Erasure, *, actor: str, reason: str) -> None:
    record(
        session,
        actor=actor,
        action="person_erased",
        target_type="person",
        details={"reason": reason, "counts": erasure.summary()},
    )


def tracker_has_events_table(connection: Connection) -> bool:
    return inspect(connection).has_table(TRACKER_EVENTS.name)


def delete_tracker_events(connection: Connection, sender_id: str) -> int:
    """Delete every event of `sender_id` from Rasa's tracker store (all sessions), and
    the states of their last turns kept beside them (bot/storage/turn_states.py)."""
    turn_states.delete_for(connection, sender_id)
    if not tracker_has_events_table(connection):
        return 0
    result = connection.execute(
        delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.sender_id == sender_id)
    )
    return result.rowcount or 0


def count_tracker_events(connection: Connection, sender_id: str) -> int:
    if not tracker_has_events_table(connection):
        return 0
    return connection.execute(
        select(func.count())
        .select_from(TRACKER_EVENTS)
        .where(TRACKER_EVENTS.c.sender_id == sender_id)
    ).scalar_one()


# ---------------------------------------------------------------- the person's own request


def erasure_confirmed(events: Reversible[Any]) -> bool:
    """Did the turn in progress (the events after the person's latest message) confirm
    the erasure? `events` are Rasa events, oldest first."""
    for event in reversed(events):
        kind = getattr(event, "type_name", None)
        if kind == "user":
            return False
        if kind == "slot" and event.key == ERASURE_SLOT and event.value is True:
            return True
    return False


def latest_inbound_id(events: Reversible[Any]) -> int | None:
    """The inbox row of the person's latest message (set by the channels' worker)."""
    for event in reversed(events):
        if getattr(event, "type_name", None) == "user":
            value = (getattr(event, "metadata", None) or {}).get("inbound_id")
            return value if isinstance(value, int) else None
    return None


def erase_at_end_of_turn(
    session: Session,
    *,
    person_id: str,
    inbound_id: int | None,
    tracker: Connection | None = None,
) -> Erasure:
    """The person said yes: erase everything but what the confirmation needs to leave.

    Called by the tracker store instead of saving the turn, so Rasa writes nothing back.
    The confirmation was written to the outbox during the turn (keys `in:<inbound>:<n>`):
    if it is still there to be sent (or, for the web chat, to be fetched), those rows stay,
    marked `erasure_pending`, with the person's row reduced to channel and address; the rest
    goes now. Without such rows (REST, already sent) the person's row goes too.
    """
    outbox = OutboundMessage.__table__
    if inbound_id is not None:
        # First statement, a write: on SQLite it takes the write lock on the latest data,
        # on PostgreSQL it locks the rows. A worker sending one of them now records the
        # outcome after this commits, and then sees the mark (after_delivery).
        picked_up = select(Person.id).where(
            Person.id == person_id, Person.channel.in_(PICKUP_CHANNELS)
        )
        session.execute(
            update(outbox)
            .where(
                outbox.c.person_id == person_id,
                outbox.c.idempotency_key.like(f"in:{inbound_id}:%"),
                or_(
                    outbox.c.status.in_(UNFINISHED_OUTBOX),
                    and_(outbox.c.status != "failed", outbox.c.person_id.in_(picked_up)),
                ),
            )
            .values(
                erasure_pending=True,
                idempotency_key=literal(f"{ERASURE_KEY_PREFIX}{person_id}:").concat(
                    cast(outbox.c.id, String)
                ),
                handoff_id=None,
                counsellor_id=None,
            )
        )
    kept_ids = [row.id for row in _erasure_rows(session, person_id)]
    person = session.get(Person, person_id)
    if person is None:
        erasure = Erasure(person_id=person_id)
        if tracker is not None:
            erasure.counts[TRACKER_EVENTS.name] = delete_tracker_events(tracker, person_id)
        return erasure
    if not kept_ids:
        return erase_person(
            session, person_id=person_id, actor="bot", reason="request", tracker=tracker
        )

    about = about_person(session, person_id)
    erasure = Erasure(person_id=person_id, counts=rows_per_table(session, about))
    erasure.kept_for_delivery = len(kept_ids)
    handoffs = list(session.execute(select(Handoff.id).where(about[Handoff.__table__])).scalars())
    erasure.audit_unlinked = _unlink_audit(session, person_id, handoffs)
    for table in reversed(Base.metadata.sorted_tables):  # children first
        if table not in about or table is Person.__table__:
            continue
        condition = about[table]
        if table is outbox:
            condition = and_(condition, outbox.c.id.not_in(kept_ids))
        session.execute(delete(table).where(condition))
    now = utcnow()
    for name in (*PROFILE_FIELDS, "language"):
        setattr(person, name, None)
    person.created_at = person.last_seen_at = now
    session.flush()
    if tracker is not None:
        erasure.counts[TRACKER_EVENTS.name] = delete_tracker_events(tracker, person_id)
    _record_erasure(session, erasure, actor="bot", reason="request")
    return erasure


def erase_after_turn(*, person_id: str, inbound_id: int | None, tracker_engine: Engine) -> Erasure:
    """`erase_at_end_of_turn` on both stores, for Bousla's tracker store (`tracker_engine`
    is Rasa's). On PostgreSQL the tracker is in the application's database: one
    transaction. On SQLite (two files) the tracker's transaction commits just after the
    application's, and rolls back if the application's fails."""
    settings = get_settings()
    if settings.tracker_database_url == settings.app_database_url:
        with session_scope() as session:
            erasure = erase_at_end_of_turn(
                session, person_id=person_id, inbound_id=inbound_id, tracker=session.connection()
            )
    else:
        with tracker_engine.begin() as tracker, session_scope() as session:
            erasure = erase_at_end_of_turn(
                session, person_id=person_id, inbound_id=inbound_id, tracker=tracker
            )
    scrub_sqlite(settings.app_database_url, settings.tracker_database_url)
    logger.info(
        "Erased %s at their request: %s (%s message(s) kept until delivered)",
        person_id,
        erasure.summary(),
        erasure.kept_for_delivery,
    )
    return erasure


def _erasure_rows(session: Session, person_id: str) -> list[OutboundMessage]:
    return list(
        session.execute(
            select(OutboundMessage).where(
                OutboundMessage.person_id == person_id,
                OutboundMessage.erasure_pending.is_(True),
            )
        ).scalars()
    )


def complete_erasure(
    session: Session,
    *,
    person_id: str,
    delivered_up_to: int | None = None,
    force: bool = False,
) -> bool:
    """Remove what was kept to deliver the last message, once it is delivered: when none
    of its rows waits to be sent (or, with `delivered_up_to`, the browser has fetched up
    to that outbox id), or at once with `force`. Returns True if something was removed.

    If the person wrote again meanwhile, they are a new person: only the old rows go.
    """
    rows = _erasure_rows(session, person_id)
    if not rows:
        return False
    if not force:
        if delivered_up_to is not None:
            if max(row.id for row in rows) > delivered_up_to:
                return False
        elif any(row.status in UNFINISHED_OUTBOX for row in rows):
            return False
    session.execute(delete(OutboundMessage).where(OutboundMessage.id.in_([r.id for r in rows])))
    about = about_person(session, person_id)
    persons = Person.__table__
    if not any(count_rows(session, t, c) for t, c in about.items() if t is not persons):
        session.execute(delete(Person).where(Person.id == person_id))
    session.flush()
    return True


def after_delivery(session: Session, *, outbound_id: int, person_id: str, channel: str) -> bool:
    """Called by the channels' worker when an outbox row is sent or has failed for good:
    if it was an erased person's last message, the rest of them goes now."""
    if channel in PICKUP_CHANNELS:
        return False  # delivered when the browser fetches it (after_pickup)
    pending = session.execute(
        select(OutboundMessage.erasure_pending).where(OutboundMessage.id == outbound_id)
    ).scalar()
    if not pending:
        return False
    return complete_erasure(session, person_id=person_id)


def after_pickup(session: Session, *, person_id: str, fetched_up_to: int) -> bool:
    """Called by the web chat when the browser has fetched its messages up to an id."""
    return complete_erasure(session, person_id=person_id, delivered_up_to=fetched_up_to)
