"""Follow-ups in the database: which are due, claiming them safely, recording the answers.

A referral (a programme suggested to a person, or chosen by them) becomes due for a
follow-up `BOUSLA_FOLLOWUP_DAYS` after the latest referral of that programme to that
person, and stays due for WINDOW_DAYS more (asking about a programme months later would
make no sense). It is never asked:

- twice about the same programme (unique (person, programme) in `followups`: inserting the
  row *is* the claim, so two replicas never both win);
- while another question to the person is open (a partial unique index: one claimed or
  asked follow-up per person), nor within GAP of the previous one;
- about programmes referred before a question the person left unanswered (no pestering);
- to a person who was erased (rows cascade away), whose latest answer to the profile
  consent is a refusal, who waits for or talks with a counsellor (handoff open or claimed),
  or who wrote less than QUIET ago (a conversation is going on);
- on WhatsApp or Telegram without an address to write to.

Programmes the person chose ("plus d'infos", "comment postuler") come first, then the most
recently referred. A claim holds a lease; a replica that dies leaves it to be taken again
(`bot.storage.leases`, like the inbox and outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.followup.answers import OUTCOMES
from bot.handoffs.service import ACTIVE_STATUSES
from bot.storage import leases
from bot.storage.models import (
    FOLLOWUP_OPEN_STATUSES,
    Consent,
    Followup,
    Handoff,
    OutboundMessage,
    Person,
    Referral,
    utcnow,
)

WINDOW_DAYS = 30  # a referral older than BOUSLA_FOLLOWUP_DAYS + this is not followed up
ANSWER_DAYS = 7  # an unanswered question is closed (status "unanswered") after this
GAP = timedelta(days=1)  # between two questions to the same person
QUIET = timedelta(hours=1)  # not while the person is in a conversation
MAX_ATTEMPTS = 5  # claims that could not ask; then "failed"
RETRY_SECONDS = 60.0  # first retry after a failed attempt; doubles each time
BUSY_SECONDS = 3600.0  # retry after this when the person is busy (counsellor, form...)
ADDRESS_CHANNELS = ("whatsapp", "telegram")  # need persons.address to write first


@dataclass(frozen=True)
class FollowupClaim:
    """A follow-up this worker may ask now (its lease is held)."""

    id: int
    person_id: str
    program_id: str
    channel: str
    language: str | None
    attempts: int


def key_prefix(followup_id: int) -> str:
    """Idempotency keys of the question's outbox rows: `followup:<id>:<n>`."""
    return f"followup:{followup_id}"


# ---------------------------------------------------------------- what is due


@dataclass(frozen=True)
class _Candidate:
    person_id: str
    program_id: str
    channel: str
    language: str | None
    referral_id: int
    last_referred_at: datetime
    chosen: bool


def _candidates(
    session: Session, *, now: datetime, days: float, channels: Iterable[str]
) -> list[_Candidate]:
    """(person, programme) pairs due now, before the per-person rules."""
    last = func.max(Referral.created_at)
    chosen = func.max(case((Referral.kind == "chosen", 1), else_=0))
    rows = session.execute(
        select(
            Referral.person_id,
            Referral.program_id,
            Person.channel,
            Person.language,
            func.max(Referral.id),
            last,
            chosen,
        )
        .join(Person, Person.id == Referral.person_id)
        .where(
            Person.channel.in_(list(channels)),
            or_(Person.channel.not_in(ADDRESS_CHANNELS), Person.address.is_not(None)),
            or_(Person.last_inbound_at.is_(None), Person.last_inbound_at < now - QUIET),
            ~exists().where(
                Followup.person_id == Referral.person_id,
                Followup.program_id == Referral.program_id,
            ),
            ~exists().where(
                Handoff.person_id == Referral.person_id, Handoff.status.in_(ACTIVE_STATUSES)
            ),
        )
        .group_by(Referral.person_id, Referral.program_id, Person.channel, Person.language)
        .having(
            and_(
                last <= now - timedelta(days=days),
                last > now - timedelta(days=days + WINDOW_DAYS),
            )
        )
    ).all()
    return [
        _Candidate(person, program, channel, language, referral_id, last_at, bool(was_chosen))
        for person, program, channel, language, referral_id, last_at, was_chosen in rows
    ]


def _refused_consent(session: Session, person_ids: list[str]) -> set[str]:
    """People whose latest answer to the profile consent is a refusal."""
    latest: dict[str, bool | None] = {}
    rows = session.execute(
        select(Consent.person_id, Consent.granted)
        .where(Consent.person_id.in_(person_ids), Consent.kind == "profile")
        .order_by(Consent.at, Consent.id)
    )
    for person_id, granted in rows:
        latest[person_id] = granted
    return {person_id for person_id, granted in latest.items() if granted is False}


def due_followups(
    session: Session,
    *,
    days: float,
    channels: Iterable[str],
    limit: int = 20,
    now: datetime | None = None,
) -> list[_Candidate]:
    """The follow-ups to ask now: one programme per person, at most `limit` people."""
    now = now or utcnow()
    candidates = _candidates(session, now=now, days=days, channels=channels)
    people = sorted({c.person_id for c in candidates})
    if not people:
        return []
    earlier: dict[str, list[Followup]] = {}
    for row in session.execute(select(Followup).where(Followup.person_id.in_(people))).scalars():
        earlier.setdefault(row.person_id, []).append(row)
    refused = _refused_consent(session, people)

    def allowed(candidate: _Candidate) -> bool:
        rows = earlier.get(candidate.person_id, [])
        if any(row.status in FOLLOWUP_OPEN_STATUSES for row in rows):
            return False
        if any(row.asked_at is not None and row.asked_at > now - GAP for row in rows):
            return False
        return not any(
            row.status == "unanswered"
            and row.asked_at is not None
            and candidate.last_referred_at <= row.asked_at
            for row in rows
        )

    best: dict[str, _Candidate] = {}
    ranked = sorted(
        candidates,
        key=lambda c: (not c.chosen, -c.last_referred_at.timestamp(), c.program_id),
    )
    for candidate in ranked:
        if candidate.person_id in refused or candidate.person_id in best:
            continue
        if allowed(candidate):
            best[candidate.person_id] = candidate
    return sorted(best.values(), key=lambda c: c.last_referred_at)[:limit]


# ---------------------------------------------------------------- claims


def close_unanswered(session: Session, *, now: datetime | None = None) -> int:
    """Questions asked more than ANSWER_DAYS ago without an answer become "unanswered"."""
    now = now or utcnow()
    result = session.execute(
        update(Followup)
        .where(Followup.status == "asked", Followup.asked_at < now - timedelta(days=ANSWER_DAYS))
        .values(status="unanswered")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def claim_due(
    session: Session,
    *,
    days: float,
    channels: Iterable[str],
    limit: int = 20,
    lease_seconds: float = 120.0,
    now: datetime | None = None,
) -> list[FollowupClaim]:
    """Claim the follow-ups this worker may ask now; commits.

    First the claims whose lease ran out (a replica died, or a retry is due), then new
    ones. Safe with several workers: a new claim is an INSERT that the unique constraints
    let only one worker make, an old one a conditional UPDATE that only one worker wins.
    """
    now = now or utcnow()
    channels = list(channels)
    close_unanswered(session, now=now)
    claims = _reclaim(session, channels=channels, limit=limit, lease_seconds=lease_seconds, now=now)
    for candidate in due_followups(
        session, days=days, channels=channels, limit=limit - len(claims), now=now
    ):
        row = Followup(
            person_id=candidate.person_id,
            program_id=candidate.program_id,
            referral_id=candidate.referral_id,
            channel=candidate.channel,
            language=candidate.language,
            status="claimed",
            attempts=1,
            lease_until=now + timedelta(seconds=lease_seconds),
            created_at=now,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another worker claimed it (or another question) first
            session.rollback()
            continue
        claims.append(_claim(row))
    return claims


def _reclaim(
    session: Session, *, channels: list[str], limit: int, lease_seconds: float, now: datetime
) -> list[FollowupClaim]:
    expired = and_(Followup.status == "claimed", Followup.lease_until < now)
    won = leases.claim(
        session,
        Followup,
        candidates=select(Followup.id)
        .where(expired, Followup.channel.in_(channels))
        .order_by(Followup.id)
        .limit(limit),
        claimable=expired,
        lease_seconds=lease_seconds,
        now=now,
    )
    claims = [_claim(row) for row in leases.rows(session, Followup, won)]
    session.commit()
    return claims


def _claim(row: Followup) -> FollowupClaim:
    return FollowupClaim(
        id=row.id,
        person_id=row.person_id,
        program_id=row.program_id,
        channel=row.channel,
        language=row.language,
        attempts=row.attempts,
    )


def eligibility(session: Session, person_id: str, *, now: datetime | None = None) -> str:
    """Just before asking: "ok", "busy" (ask later) or "never" (drop the question)."""
    now = now or utcnow()
    person = session.get(Person, person_id)
    if person is None:
        return "never"
    if person.channel in ADDRESS_CHANNELS and not person.address:
        return "never"
    if person_id in _refused_consent(session, [person_id]):
        return "never"
    handoff = session.execute(
        select(Handoff.id).where(
            Handoff.person_id == person_id, Handoff.status.in_(ACTIVE_STATUSES)
        )
    ).first()
    if handoff is not None:
        return "busy"
    if person.last_inbound_at is not None and person.last_inbound_at > now - QUIET:
        return "busy"
    return "ok"


def question_row(session: Session, followup_id: int) -> int | None:
    """The first outbox row of the question, once Rasa has queued it."""
    return session.execute(
        select(func.min(OutboundMessage.id)).where(
            OutboundMessage.idempotency_key.like(f"{key_prefix(followup_id)}:%")
        )
    ).scalar()


def mark_asked(
    session: Session, followup_id: int, *, outbound_id: int | None, now: datetime | None = None
) -> None:
    """The question is in the outbox: the follow-up is asked (an early answer stays)."""
    now = now or utcnow()
    row = session.get(Followup, followup_id)
    if row is None:
        return
    if row.status == "claimed":
        row.status = "asked"
    row.asked_at = row.asked_at or now
    row.outbound_id = row.outbound_id or outbound_id
    row.lease_until = None
    row.error = None
    _update_referrals(
        session, row, Referral.followup_sent_at.is_(None), followup_sent_at=row.asked_at
    )
    session.commit()


def _update_referrals(session: Session, row: Followup, *where: ColumnElement, **values) -> None:
    """Write what became of the follow-up on the person's referrals of that programme made
    up to the question (and matching `where`)."""
    session.execute(
        update(Referral)
        .where(
            Referral.person_id == row.person_id,
            Referral.program_id == row.program_id,
            Referral.created_at <= row.asked_at,
            *where,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def retry_later(
    session: Session,
    followup_id: int,
    *,
    error: str | None,
    delay_seconds: float | None = None,
    counts: bool = True,
) -> str:
    """The question could not be asked now: keep the claim for later, or give up after
    MAX_ATTEMPTS. `counts=False` when the person was only busy. Returns the status."""
    row = session.get(Followup, followup_id)
    if row is None or row.status != "claimed":
        session.commit()
        return row.status if row is not None else "gone"
    status = leases.retry_or_give_up(
        row,
        error=error,
        max_attempts=MAX_ATTEMPTS,
        delay_seconds=lambda attempts: delay_seconds or RETRY_SECONDS * 2 ** max(0, attempts - 1),
        count_attempt=counts,
    )
    session.commit()
    return status


def drop(session: Session, followup_id: int, *, reason: str) -> None:
    """Never ask this one (person erased or refused consent, programme gone...)."""
    leases.give_up(
        session,
        Followup,
        followup_id,
        error=reason,
        status="skipped",
        where=[Followup.status == "claimed"],
    )
    session.commit()


# ---------------------------------------------------------------- the conversation side


def claimed_followup(session: Session, person_id: str) -> Followup | None:
    """The follow-up being asked to this person right now (for the question's action)."""
    return (
        session.execute(
            select(Followup)
            .where(Followup.person_id == person_id, Followup.status == "claimed")
            .order_by(Followup.id.desc())
        )
        .scalars()
        .first()
    )


def record_answer(
    session: Session,
    *,
    person_id: str,
    outcome: str,
    followup_id: int | None = None,
    now: datetime | None = None,
) -> Followup | None:
    """Store the person's answer on their follow-up (the given one, else their latest).

    A later answer replaces an earlier one ("j'attends", then "c'est bon, je suis
    inscrit"). The referrals of that programme get the outcome too. Returns the follow-up,
    or None if the person was never asked anything.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown follow-up outcome {outcome!r}")
    now = now or utcnow()
    query = select(Followup).where(Followup.person_id == person_id)
    if followup_id is not None:
        query = query.where(Followup.id == followup_id)
    else:
        query = query.where(Followup.status.in_(("claimed", "asked", "unanswered", "answered")))
    row = session.execute(query.order_by(Followup.id.desc())).scalars().first()
    if row is None:
        return None
    row.status = "answered"
    row.outcome = outcome
    row.answered_at = now
    row.asked_at = row.asked_at or now
    row.lease_until = None
    _update_referrals(session, row, followup_answer=outcome, followup_answered_at=now)
    session.flush()
    return row
