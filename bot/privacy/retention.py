"""Retention: `purge` erases people silent for longer than the retention period (12
months, as the consent notice says), and older inbox/outbox rows and tracker events of the
others; erasure messages left behind go after a day."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.privacy.erasure import (
    ERASURE_LEFTOVER_AGE,
    TRACKER_EVENTS,
    UNFINISHED_OUTBOX,
    about_person,
    complete_erasure,
    count_rows,
    count_tracker_events,
    erase_person,
    rows_per_table,
    tracker_has_events_table,
)
from bot.storage import turn_states
from bot.storage.audit import record
from bot.storage.models import InboundMessage, OutboundMessage, Person, utcnow

# How long conversations and profiles are kept (see `utter_consent_notice`).
RETENTION_DAYS = 365


@dataclass
class Purge:
    cutoff: datetime
    people: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    leftovers: int = 0  # erasure messages removed after ERASURE_LEFTOVER_AGE

    def add(self, table: str, count: int) -> None:
        if count:
            self.counts[table] = self.counts.get(table, 0) + count


def parse_age(text: str) -> timedelta:
    """ "365d", "52w", "12h" -> timedelta; ValueError with a sentence otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwh])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r}: write a duration such as 365d, 52w or 48h")
    number, unit = int(match.group(1)), match.group(2)
    return {"d": timedelta(days=number), "w": timedelta(weeks=number)}.get(
        unit, timedelta(hours=number)
    )


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def purge(
    session: Session,
    *,
    older_than: timedelta,
    tracker: Connection | None = None,
    dry_run: bool = False,
    actor: str = "cli",
) -> Purge:
    """Retention: erase everyone silent since before now - `older_than` (everything about
    them), then the inbox/outbox rows and tracker events older than that of the others.
    Messages still waiting to be sent are kept. `dry_run` counts and changes nothing."""
    cutoff = utcnow() - older_than
    report = Purge(cutoff=cutoff)
    silent = list(
        session.execute(
            select(Person.id).where(
                Person.last_seen_at < cutoff,
                or_(Person.last_inbound_at.is_(None), Person.last_inbound_at < cutoff),
                Person.created_at < cutoff,
            )
        ).scalars()
    )
    report.people = len(silent)
    for person_id in silent:
        if dry_run:
            for table, count in rows_per_table(session, about_person(session, person_id)).items():
                report.add(table, count)
            if tracker is not None:
                report.add(TRACKER_EVENTS.name, count_tracker_events(tracker, person_id))
            continue
        erasure = erase_person(
            session,
            person_id=person_id,
            actor=actor,
            reason="retention",
            tracker=tracker,
            audit=False,  # one entry for the whole purge
        )
        for table, count in erasure.counts.items():
            report.add(table, count)

    old_inbound = and_(
        InboundMessage.received_at < cutoff, InboundMessage.status.in_(("done", "failed"))
    )
    old_outbound = and_(
        OutboundMessage.created_at < cutoff,
        OutboundMessage.status.not_in(UNFINISHED_OUTBOX),
        OutboundMessage.erasure_pending.is_(False),
    )
    for model, condition in ((InboundMessage, old_inbound), (OutboundMessage, old_outbound)):
        table = model.__table__
        if dry_run:
            report.add(table.name, count_rows(session, table, condition))
        else:
            report.add(table.name, session.execute(delete(table).where(condition)).rowcount or 0)

    if tracker is not None and tracker_has_events_table(tracker):
        report.add(TRACKER_EVENTS.name, _purge_tracker(tracker, _epoch(cutoff), dry_run))

    leftovers = {
        row.person_id
        for row in session.execute(
            select(OutboundMessage.person_id).where(
                OutboundMessage.erasure_pending.is_(True),
                OutboundMessage.created_at < utcnow() - ERASURE_LEFTOVER_AGE,
            )
        )
    }
    report.leftovers = len(leftovers)
    if not dry_run:
        for person_id in leftovers:
            complete_erasure(session, person_id=person_id, force=True)
        record(
            session,
            actor=actor,
            action="retention_purge",
            details={
                "older_than_days": round(older_than.total_seconds() / 86400, 2),
                "people": report.people,
                "counts": dict(sorted(report.counts.items())),
            },
        )
    return report


def _purge_tracker(connection: Connection, cutoff: float, dry_run: bool) -> int:
    """Tracker events older than `cutoff` (epoch seconds): every event of a conversation
    whose last event is older, and the older sessions of the others (Rasa reads only the
    latest session, which is never cut)."""
    events = TRACKER_EVENTS
    latest = select(events.c.sender_id).group_by(events.c.sender_id)
    quiet = latest.having(func.max(events.c.timestamp) < cutoff)
    newer = events.alias("newer")
    session_start = (
        select(func.max(newer.c.timestamp))
        .where(newer.c.sender_id == events.c.sender_id, newer.c.type_name == "session_started")
        .correlate_except(newer)
        .scalar_subquery()
    )
    condition = or_(
        events.c.sender_id.in_(quiet),
        and_(events.c.timestamp < cutoff, events.c.timestamp < session_start),
    )
    if dry_run:
        return connection.execute(
            select(func.count()).select_from(events).where(condition)
        ).scalar_one()
    deleted = connection.execute(delete(events).where(condition)).rowcount or 0
    turn_states.delete_orphans(connection, events)  # the states of those conversations' turns
    return deleted
