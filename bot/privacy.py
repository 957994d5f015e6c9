"""Privacy by default (Moroccan law 09-08): consent records, erasure, retention, export.

- Consent: the notice shown on first contact and the answer to "may I keep your answers?"
  are rows of `consents`, with the notice version and the time.
- Erasure: deleting the person's row deletes every row about them (every table references
  `persons.id` with ON DELETE CASCADE); their events in Rasa's tracker store go too, and
  audit entries about their requests lose the link to them. Staff erase with
  `bousla erase`; a person erases themself with "supprime mes données" and a yes, at the
  end of that turn (`erase_at_end_of_turn`, called by Bousla's tracker store).
- The last message ("c'est effacé") still has to reach the person: when it is still
  waiting in the outbox at the end of the turn, it stays, with the person's row reduced
  to the address it is sent to (no profile, no language), until the provider accepts it
  (`after_delivery`) or the web chat has fetched it (`after_pickup`). Those rows are keyed
  `erasure:<pseudonym>:<n>`; `bousla purge` removes any left after a day.
- Retention: `purge` erases people silent for longer than the retention period, and older
  inbox/outbox rows and tracker events of the others.
- Export: `export_person`, one person's data as JSON-ready dicts (`bousla export`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Reversible
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
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

from bot.storage.audit import record
from bot.storage.models import (
    AuditEntry,
    Base,
    Consent,
    Handoff,
    HandoffNote,
    InboundMessage,
    OutboundMessage,
    Person,
    Referral,
    utcnow,
)
from bot.storage.people import PROFILE_FIELDS, ensure_person, profile_summary

logger = logging.getLogger(__name__)

# Bump when the wording of `utter_consent_notice` changes in substance: everybody sees
# the new notice once, and the record says which version each person was shown.
NOTICE_VERSION = "2026-11"
# How long conversations and profiles are kept (see `utter_consent_notice`).
RETENTION_DAYS = 365

# Slot set by `action_delete_my_data` when the person said yes to the erasure question.
ERASURE_SLOT = "erasure_confirmed"
# Idempotency keys of the last message to an erased person, kept only until delivered.
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


# ---------------------------------------------------------------- consent


def record_notice_shown(session: Session, *, person_id: str, channel: str) -> bool:
    """Record that the consent notice of `NOTICE_VERSION` is shown (once per version).

    Returns False when it was already recorded: the person has seen this notice.
    """
    ensure_person(session, person_id=person_id, channel=channel)
    already = session.execute(
        select(Consent.id).where(
            Consent.person_id == person_id,
            Consent.kind == "notice",
            Consent.version == NOTICE_VERSION,
        )
    ).first()
    if already is not None:
        return False
    session.add(Consent(person_id=person_id, kind="notice", version=NOTICE_VERSION, at=utcnow()))
    return True


def record_profile_consent(
    session: Session, *, person_id: str, channel: str, granted: bool
) -> None:
    """Record the person's answer to "may I keep your answers?" before the profile form."""
    ensure_person(session, person_id=person_id, channel=channel)
    session.add(
        Consent(
            person_id=person_id,
            kind="profile",
            version=NOTICE_VERSION,
            granted=granted,
            at=utcnow(),
        )
    )


# ---------------------------------------------------------------- who

WHATSAPP_NUMBER = re.compile(r"^\+[1-9]\d{7,14}$")
TELEGRAM_CHAT_ID = re.compile(r"^-?\d{1,20}$")
BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # as bot.channels.webchat accepts it
CHANNELS = ("whatsapp", "telegram", "webchat", "rest")


def provider_address(channel: str, user: str) -> str:
    """What the channel receives from the provider for this user (and hashes).

    WhatsApp numbers may be typed as staff see them: "+212 6 12 34 56 78",
    "0612345678" (Morocco), "00212612345678" or "whatsapp:+212612345678".
    Raises ValueError with a sentence for anything else.
    """
    user = user.strip()
    if channel == "whatsapp":
        number = re.sub(r"[\s().-]", "", user.removeprefix("whatsapp:"))
        if number.startswith("00"):
            number = "+" + number[2:]
        elif re.fullmatch(r"0[5-7]\d{8}", number):
            number = "+212" + number[1:]
        elif re.fullmatch(r"212\d{9}", number):
            number = "+" + number
        if not WHATSAPP_NUMBER.match(number):
            raise ValueError("not a phone number (e.g. +212612345678 or 0612345678)")
        return f"whatsapp:{number}"
    if channel == "telegram":
        if not TELEGRAM_CHAT_ID.match(user):
            raise ValueError("a Telegram chat id is a number (e.g. 5550199887)")
        return user
    if channel == "webchat":
        if not BROWSER_ID.match(user):
            raise ValueError("a web chat id is 8 to 64 letters, digits, '-' or '_'")
        return user
    if channel == "rest":
        if not user:
            raise ValueError("the REST sender id is empty")
        return user
    raise ValueError(f"unknown channel {channel!r} (one of {', '.join(CHANNELS)})")


def person_id_for(channel: str, user: str) -> str:
    """The pseudonym the channel gives this user (Rasa's REST channel uses the id as is)."""
    address = provider_address(channel, user)
    if channel == "rest":
        return address
    from bot.channels.identity import pseudonym

    return pseudonym(channel, address)


# ---------------------------------------------------------------- what is about a person


def _about_person(session: Session, person_id: str) -> dict[Table, ColumnElement]:
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


def _count(session: Session, table: Table, condition: ColumnElement) -> int:
    return session.execute(select(func.count()).select_from(table).where(condition)).scalar_one()


def _counts(session: Session, about: dict[Table, ColumnElement]) -> dict[str, int]:
    return {table.name: _count(session, table, condition) for table, condition in about.items()}


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
    about = _about_person(session, person_id)
    erasure = Erasure(person_id=person_id, counts=_counts(session, about))
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
    """Delete every event of `sender_id` from Rasa's tracker store (all sessions)."""
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
    re-keyed `erasure:...`, with the person's row reduced to channel and address; the rest
    goes now. Without such rows (REST, already sent) the person's row goes too.
    """
    outbox = OutboundMessage.__table__
    if inbound_id is not None:
        # First statement, a write: on SQLite it takes the write lock on the latest data,
        # on PostgreSQL it locks the rows. A worker sending one of them now records the
        # outcome after this commits, and then sees the new key (after_delivery).
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

    about = _about_person(session, person_id)
    erasure = Erasure(person_id=person_id, counts=_counts(session, about))
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
    from bot.settings import get_settings
    from bot.storage.db import session_scope

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
                OutboundMessage.idempotency_key.like(f"{ERASURE_KEY_PREFIX}%"),
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
    about = _about_person(session, person_id)
    persons = Person.__table__
    if not any(_count(session, t, c) for t, c in about.items() if t is not persons):
        session.execute(delete(Person).where(Person.id == person_id))
    session.flush()
    return True


def after_delivery(session: Session, *, outbound_id: int, person_id: str, channel: str) -> bool:
    """Called by the channels' worker when an outbox row is sent or has failed for good:
    if it was an erased person's last message, the rest of them goes now."""
    if channel in PICKUP_CHANNELS:
        return False  # delivered when the browser fetches it (after_pickup)
    key = session.execute(
        select(OutboundMessage.idempotency_key).where(OutboundMessage.id == outbound_id)
    ).scalar()
    if not key or not key.startswith(ERASURE_KEY_PREFIX):
        return False
    return complete_erasure(session, person_id=person_id)


def after_pickup(session: Session, *, person_id: str, fetched_up_to: int) -> bool:
    """Called by the web chat when the browser has fetched its messages up to an id."""
    return complete_erasure(session, person_id=person_id, delivered_up_to=fetched_up_to)


# ---------------------------------------------------------------- retention


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
            for table, count in _counts(session, _about_person(session, person_id)).items():
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
        or_(
            OutboundMessage.idempotency_key.is_(None),
            OutboundMessage.idempotency_key.not_like(f"{ERASURE_KEY_PREFIX}%"),
        ),
    )
    for model, condition in ((InboundMessage, old_inbound), (OutboundMessage, old_outbound)):
        table = model.__table__
        if dry_run:
            report.add(table.name, _count(session, table, condition))
        else:
            report.add(table.name, session.execute(delete(table).where(condition)).rowcount or 0)

    if tracker is not None and tracker_has_events_table(tracker):
        report.add(TRACKER_EVENTS.name, _purge_tracker(tracker, _epoch(cutoff), dry_run))

    leftovers = {
        row.person_id
        for row in session.execute(
            select(OutboundMessage.person_id).where(
                OutboundMessage.idempotency_key.like(f"{ERASURE_KEY_PREFIX}%"),
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
    return connection.execute(delete(events).where(condition)).rowcount or 0


# ---------------------------------------------------------------- export


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def export_person(session: Session, *, person_id: str) -> dict[str, Any] | None:
    """Everything Bousla keeps about one person, ready for `json.dumps`; None if unknown.

    The phone number or chat id is not repeated: the person knows it, and it is kept only
    to answer them.
    """
    person = session.get(Person, person_id)
    if person is None:
        return None
    consents = session.execute(
        select(Consent).where(Consent.person_id == person_id).order_by(Consent.at, Consent.id)
    ).scalars()
    inbound = session.execute(
        select(InboundMessage).where(InboundMessage.person_id == person_id)
    ).scalars()
    outbound = session.execute(
        select(OutboundMessage).where(OutboundMessage.person_id == person_id)
    ).scalars()
    messages = [
        {
            "at": _iso(m.received_at),
            "from": "person",
            "text": m.text,
            "button": m.payload,
            "media": m.media,
            "location": m.location,
        }
        for m in inbound
    ] + [
        {
            "at": _iso(m.created_at),
            "from": m.author,
            "text": m.text,
            "buttons": m.buttons,
            "media": m.media,
            "status": m.status,
        }
        for m in outbound
    ]
    messages.sort(key=lambda m: m["at"] or "")
    referrals = session.execute(
        select(Referral).where(Referral.person_id == person_id).order_by(Referral.id)
    ).scalars()
    handoffs = session.execute(
        select(Handoff).where(Handoff.person_id == person_id).order_by(Handoff.id)
    ).scalars()
    return {
        "exported_at": _iso(utcnow()),
        "notice_version": NOTICE_VERSION,
        "retention_days": RETENTION_DAYS,
        "person": {
            "pseudonym": person.id,
            "channel": person.channel,
            "language": person.language,
            "first_contact": _iso(person.created_at),
            "last_seen": _iso(person.last_seen_at),
        },
        "profile": profile_summary(person),
        "consents": [
            {"kind": c.kind, "version": c.version, "granted": c.granted, "at": _iso(c.at)}
            for c in consents
        ],
        "messages": messages,
        "referrals": [
            {
                "program": r.program_id,
                "kind": r.kind,
                "at": _iso(r.created_at),
                "followup_sent_at": _iso(r.followup_sent_at),
                "followup_answer": r.followup_answer,
            }
            for r in referrals
        ],
        "handoffs": [
            {
                "reason": h.reason,
                "priority": h.priority,
                "status": h.status,
                "requested_at": _iso(h.created_at),
                "claimed_at": _iso(h.claimed_at),
                "resolved_at": _iso(h.resolved_at),
                "outcome": h.outcome,
                "notes": [
                    {"at": _iso(n.created_at), "text": n.text}
                    for n in session.execute(
                        select(HandoffNote)
                        .where(HandoffNote.handoff_id == h.id)
                        .order_by(HandoffNote.id)
                    ).scalars()
                ],
            }
            for h in handoffs
        ],
    }


def record_export(session: Session, *, person_id: str, actor: str) -> None:
    """The export is audited (linked to the person until they are erased)."""
    record(
        session, actor=actor, action="person_exported", target_type="person", target_id=person_id
    )
