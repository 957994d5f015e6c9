"""What counsellors see of the handoffs: the queue, one request with the person's profile
and programmes, the conversation, notes, earlier requests, people who wrote recently.
Reads only; every change goes through `bot.handoffs.service`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bot.channels.outbound import TranscriptEntry, transcript
from bot.handoffs.service import ACTIVE_STATUSES
from bot.safety import find_distress
from bot.storage.models import (
    AuditEntry,
    Counsellor,
    Handoff,
    HandoffNote,
    InboundMessage,
    Person,
    Referral,
    utcnow,
)
from bot.storage.people import profile_summary

# What raised a request (the queue's triage): reason -> tier; any other reason is "human".
TIER_BY_REASON = {
    "distress": "danger",
    "check_in": "check_in",
    "turn_failed": "alert",
    "counsellor": "counsellor",
}
EXCERPT_LENGTH = 140
# How many of the person's messages before a request are searched for the one that raised it.
TRIGGER_LOOKBACK = 6


def tier_of(handoff: Handoff) -> str:
    return TIER_BY_REASON.get(handoff.reason, "human")


@dataclass(frozen=True)
class Trigger:
    """The person's message that raised a request (a lexicon match first, else the last)."""

    inbound_id: int
    text: str
    at: datetime

    @property
    def excerpt(self) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


@dataclass
class HandoffView:
    """A handoff with what counsellors need to see about the person, for pages and API."""

    handoff: Handoff
    person: Person | None
    claimed_by: Counsellor | None
    programs: list[str] = field(default_factory=list)
    trigger: Trigger | None = None
    category: str | None = None  # bot.safety.CATEGORIES, when distress raised it

    @property
    def tier(self) -> str:
        return tier_of(self.handoff)

    @property
    def waiting_seconds(self) -> int:
        end = self.handoff.claimed_at or self.handoff.resolved_at or utcnow()
        return max(0, int((end - self.handoff.created_at).total_seconds()))

    @property
    def profile(self) -> dict[str, object]:
        return profile_summary(self.person) if self.person else {}

    def as_dict(self) -> dict:
        h = self.handoff
        return {
            "id": h.id,
            "person_id": h.person_id,
            "channel": h.channel,
            "language": h.language,
            "priority": h.priority,
            "reason": h.reason,
            "status": h.status,
            "created_at": h.created_at,
            "claimed_at": h.claimed_at,
            "claimed_by": self.claimed_by.username if self.claimed_by else None,
            "resolved_at": h.resolved_at,
            "outcome": h.outcome,
            "handed_back": h.handed_back,
            "waiting_seconds": self.waiting_seconds,
            "profile": self.profile,
            "suggested_programs": self.programs,
            "tier": self.tier,
            "category": self.category,
            "excerpt": self.trigger.excerpt if self.trigger else None,
        }


def _programs_by_person(session: Session, person_ids: list[str]) -> dict[str, list[str]]:
    """Programmes already suggested or chosen (table `referrals`), newest first, no repeats."""
    if not person_ids:
        return {}
    rows = session.execute(
        select(Referral.person_id, Referral.program_id)
        .where(Referral.person_id.in_(person_ids))
        .order_by(Referral.created_at.desc())
    )
    found: dict[str, list[str]] = {}
    for person_id, program_id in rows:
        programs = found.setdefault(person_id, [])
        if program_id not in programs:
            programs.append(program_id)
    return found


def _views(session: Session, handoffs: list[Handoff]) -> list[HandoffView]:
    person_ids = list({h.person_id for h in handoffs})
    people = {
        p.id: p for p in session.execute(select(Person).where(Person.id.in_(person_ids))).scalars()
    }
    counsellor_ids = {h.claimed_by for h in handoffs if h.claimed_by}
    counsellors = {
        c.id: c
        for c in session.execute(
            select(Counsellor).where(Counsellor.id.in_(counsellor_ids))
        ).scalars()
    }
    programs = _programs_by_person(session, person_ids)
    categories = _categories(session, handoffs)
    result = []
    for h in handoffs:
        trigger = _trigger(session, h) if h.reason != "counsellor" else None
        category = categories.get(h.id)
        if category is None and trigger is not None and tier_of(h) in ("danger", "check_in"):
            found = find_distress(trigger.text)
            category = found.category if found else None
        result.append(
            HandoffView(
                handoff=h,
                person=people.get(h.person_id),
                claimed_by=counsellors.get(h.claimed_by),
                programs=programs.get(h.person_id, []),
                trigger=trigger,
                category=category,
            )
        )
    return result


def _categories(session: Session, handoffs: list[Handoff]) -> dict[int, str]:
    """The distress category the bot recorded when it queued each request, if any."""
    ids = [str(h.id) for h in handoffs if tier_of(h) in ("danger", "check_in")]
    if not ids:
        return {}
    rows = session.execute(
        select(AuditEntry.target_id, AuditEntry.details)
        .where(
            AuditEntry.target_type == "handoff",
            AuditEntry.target_id.in_(ids),
            AuditEntry.action.in_(("distress_detected", "check_in")),
        )
        .order_by(AuditEntry.id)
    )
    found: dict[int, str] = {}
    for target_id, details in rows:
        category = (details or {}).get("category")
        if category:
            found[int(target_id)] = category
    return found


def _trigger(session: Session, handoff: Handoff) -> Trigger | None:
    """The message that raised `handoff`: among the person's last messages up to the
    request, the newest the distress lexicon flags, else the newest with text."""
    rows = list(
        session.execute(
            select(InboundMessage.id, InboundMessage.text, InboundMessage.received_at)
            .where(
                InboundMessage.person_id == handoff.person_id,
                InboundMessage.received_at <= handoff.created_at,
                InboundMessage.text.is_not(None),
            )
            .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
            .limit(TRIGGER_LOOKBACK)
        )
    )
    if not rows:
        return None
    if tier_of(handoff) in ("danger", "check_in"):
        for row in rows:
            if find_distress(row.text or ""):
                return Trigger(row.id, row.text, row.received_at)
    row = rows[0]
    return Trigger(row.id, row.text, row.received_at)


def list_handoffs(
    session: Session, *, status: str | None = None, limit: int = 200
) -> list[HandoffView]:
    """The queue: urgent first, then the longest wait first. Without `status`, the open
    and claimed requests; resolved and cancelled ones come newest first."""
    query = select(Handoff)
    if status in ("resolved", "cancelled"):
        query = query.where(Handoff.status == status).order_by(
            Handoff.resolved_at.desc(), Handoff.id.desc()
        )
    else:
        statuses = (status,) if status else ACTIVE_STATUSES
        urgent_first = case((Handoff.priority == "urgent", 0), else_=1)
        query = query.where(Handoff.status.in_(statuses)).order_by(
            urgent_first, Handoff.created_at, Handoff.id
        )
    handoffs = list(session.execute(query.limit(limit)).scalars())
    return _views(session, handoffs)


def handoff_view(session: Session, *, handoff: Handoff) -> HandoffView:
    return _views(session, [handoff])[0]


def conversation(session: Session, *, handoff: Handoff, limit: int = 300) -> list[TranscriptEntry]:
    """The person's whole conversation (the last `limit` entries), oldest first."""
    return transcript(session, person_id=handoff.person_id)[-limit:]


def earlier_handoffs(session: Session, *, handoff: Handoff) -> list[HandoffView]:
    earlier = session.execute(
        select(Handoff)
        .where(Handoff.person_id == handoff.person_id, Handoff.id != handoff.id)
        .order_by(Handoff.created_at.desc())
        .limit(20)
    ).scalars()
    return _views(session, list(earlier))


def notes_of(session: Session, *, handoff: Handoff) -> list[tuple[HandoffNote, str]]:
    rows = session.execute(
        select(HandoffNote, Counsellor.display_name)
        .outerjoin(Counsellor, Counsellor.id == HandoffNote.counsellor_id)
        .where(HandoffNote.handoff_id == handoff.id)
        .order_by(HandoffNote.id)
    )
    return [(note, name or "?") for note, name in rows]


def counsellor_names(session: Session) -> dict[int, str]:
    return {
        c.id: c.display_name or c.username for c in session.execute(select(Counsellor)).scalars()
    }


@dataclass(frozen=True)
class RecentPerson:
    person: Person
    active_handoff_id: int | None


def recent_people(session: Session, *, limit: int = 50, hours: int = 72) -> list[RecentPerson]:
    """People who wrote recently, newest first, with their active request if any."""
    since = utcnow() - timedelta(hours=hours)
    people = list(
        session.execute(
            select(Person)
            .where(Person.last_seen_at >= since)
            .order_by(Person.last_seen_at.desc())
            .limit(limit)
        ).scalars()
    )
    active = dict(
        session.execute(
            select(Handoff.person_id, Handoff.id).where(
                Handoff.person_id.in_([p.id for p in people]),
                Handoff.status.in_(ACTIVE_STATUSES),
            )
        ).all()
    )
    return [RecentPerson(p, active.get(p.id)) for p in people]
