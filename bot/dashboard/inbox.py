"""The counsellors' inbox: the queue, one conversation, claim, reply, note, resolve,
takeover (crud: keyword-only `session`; the caller commits).

Operations that change what the bot does call Rasa first (`RasaClient`), then write: if
Rasa cannot be reached nothing changes, and the counsellor is told to try again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from bot.channels.outbound import TranscriptEntry, enqueue_message, transcript
from bot.dashboard.rasa_api import RasaClient
from bot.storage.audit import record
from bot.storage.handoffs import ACTIVE_STATUSES
from bot.storage.models import (
    Counsellor,
    Handoff,
    HandoffNote,
    OutboundMessage,
    Person,
    Referral,
    utcnow,
)
from bot.storage.people import ensure_person, profile_summary

OUTCOMES = ("oriented", "referred", "listening_only", "no_answer", "other")
STATUSES = ("open", "claimed", "resolved", "cancelled")
MAX_TEXT_LENGTH = 4000


class InboxError(Exception):
    """An operation refused; `status_code` for the API, `message` in French for people."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(InboxError):
    status_code = 404


class Conflict(InboxError):
    status_code = 409


@dataclass
class HandoffView:
    """A handoff with what counsellors need to see about the person, for pages and API."""

    handoff: Handoff
    person: Person | None
    claimed_by: Counsellor | None
    programs: list[str] = field(default_factory=list)

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
    return [
        HandoffView(
            handoff=h,
            person=people.get(h.person_id),
            claimed_by=counsellors.get(h.claimed_by),
            programs=programs.get(h.person_id, []),
        )
        for h in handoffs
    ]


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


def get_handoff(session: Session, *, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("Demande introuvable.")
    return handoff


def handoff_view(session: Session, *, handoff: Handoff) -> HandoffView:
    return _views(session, [handoff])[0]


def conversation(session: Session, *, handoff: Handoff, limit: int = 300) -> list[TranscriptEntry]:
    """The person's whole conversation (the last `limit` entries), oldest first."""
    return transcript(session, person_id=handoff.person_id)[-limit:]


def record_view(session: Session, *, handoff: Handoff, counsellor: Counsellor) -> None:
    """Reading a conversation is access to personal data: it goes in the audit log."""
    record(
        session,
        actor=counsellor.username,
        action="conversation_viewed",
        target_type="handoff",
        target_id=handoff.id,
    )


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


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InboxError("Le message est vide.")
    if len(text) > MAX_TEXT_LENGTH:
        raise InboxError(f"Le message dépasse {MAX_TEXT_LENGTH} caractères.")
    return text


def _ensure_active(handoff: Handoff) -> None:
    if handoff.status not in ACTIVE_STATUSES:
        label = "résolue" if handoff.status == "resolved" else "annulée"
        raise Conflict(
            f"Cette demande est déjà {label} : le bot a repris la conversation. "
            "Reprends la main depuis « Conversations » pour écrire à nouveau."
        )


def claim(
    session: Session, *, handoff: Handoff, counsellor: Counsellor, rasa: RasaClient
) -> Handoff:
    """Take the request: the bot goes silent for this person (Rasa pause)."""
    _ensure_active(handoff)
    if handoff.status == "claimed":
        if handoff.claimed_by == counsellor.id:
            return handoff
        holder = session.get(Counsellor, handoff.claimed_by) if handoff.claimed_by else None
        raise Conflict(f"Déjà prise par {holder.display_name if holder else 'un collègue'}.")
    rasa.pause(handoff.person_id)
    now = utcnow()
    taken = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "open")
        .values(status="claimed", claimed_at=now, claimed_by=counsellor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if not taken and handoff.claimed_by != counsellor.id:
        raise Conflict("Un collègue vient de prendre cette demande.")
    record(
        session,
        actor=counsellor.username,
        action="handoff_claimed",
        target_type="handoff",
        target_id=handoff.id,
    )
    return handoff


def reply(
    session: Session,
    *,
    handoff: Handoff,
    counsellor: Counsellor,
    text: str,
    rasa: RasaClient,
    client_key: str | None = None,
) -> OutboundMessage:
    """Send the counsellor's message on the person's channel (through the outbox).

    Replying to a request nobody has taken takes it first, so the bot falls silent.
    `client_key` makes a double submit of the same form send one message.
    """
    text = _clean_text(text)
    _ensure_active(handoff)
    if handoff.status == "open":
        claim(session, handoff=handoff, counsellor=counsellor, rasa=rasa)
    person = session.get(Person, handoff.person_id)
    message = enqueue_message(
        session,
        person_id=handoff.person_id,
        channel=person.channel if person else handoff.channel,
        text=text,
        author="counsellor",
        counsellor_id=counsellor.id,
        handoff_id=handoff.id,
        idempotency_key=f"counsellor:{handoff.id}:{client_key}" if client_key else None,
    )
    record(
        session,
        actor=counsellor.username,
        action="message_sent",
        target_type="handoff",
        target_id=handoff.id,
        details={"outbound_id": message.id},
    )
    return message


def add_note(
    session: Session, *, handoff: Handoff, counsellor: Counsellor, text: str
) -> HandoffNote:
    """A private note (never sent to the person); allowed on closed requests too."""
    note = HandoffNote(
        handoff_id=handoff.id,
        counsellor_id=counsellor.id,
        text=_clean_text(text),
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    record(
        session,
        actor=counsellor.username,
        action="note_added",
        target_type="handoff",
        target_id=handoff.id,
    )
    return note


def resolve(
    session: Session,
    *,
    handoff: Handoff,
    counsellor: Counsellor,
    outcome: str,
    hand_back: bool,
    rasa: RasaClient,
) -> list[OutboundMessage]:
    """Close the request with its outcome; the bot resumes for this person.

    With `hand_back`, the person is told in their language that they are back with the
    bot (Rasa renders `utter_handed_back`); without it the bot resumes silently.
    Returns the messages queued for the person.
    """
    if outcome not in OUTCOMES:
        raise InboxError(f"Issue inconnue {outcome!r} ({', '.join(OUTCOMES)}).")
    _ensure_active(handoff)
    bot_messages = rasa.hand_back(handoff.person_id, with_message=hand_back)
    now = utcnow()
    handoff.status = "resolved"
    handoff.resolved_at = now
    handoff.outcome = outcome
    handoff.handed_back = hand_back
    if handoff.claimed_by is None:
        handoff.claimed_by = counsellor.id
        handoff.claimed_at = now
    person = session.get(Person, handoff.person_id)
    channel = person.channel if person else handoff.channel
    queued = [
        enqueue_message(
            session,
            person_id=handoff.person_id,
            channel=channel,
            text=message.get("text"),
            buttons=message.get("buttons"),
            author="bot",
            handoff_id=handoff.id,
            idempotency_key=f"handback:{handoff.id}:{index}",
        )
        for index, message in enumerate(bot_messages)
        if message.get("text") or message.get("buttons")
    ]
    record(
        session,
        actor=counsellor.username,
        action="handoff_resolved",
        target_type="handoff",
        target_id=handoff.id,
        details={"outcome": outcome, "hand_back": hand_back},
    )
    return queued


def takeover(
    session: Session, *, person_id: str, counsellor: Counsellor, rasa: RasaClient
) -> Handoff:
    """A counsellor's own choice: take any conversation (joins a request already queued)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("Personne introuvable.")
    existing = (
        session.execute(
            select(Handoff)
            .where(Handoff.person_id == person_id, Handoff.status.in_(ACTIVE_STATUSES))
            .order_by(Handoff.id.desc())
        )
        .scalars()
        .first()
    )
    if existing is not None:
        return claim(session, handoff=existing, counsellor=counsellor, rasa=rasa)
    rasa.pause(person_id)
    ensure_person(session, person_id=person_id, channel=person.channel)
    now = utcnow()
    handoff = Handoff(
        person_id=person_id,
        channel=person.channel,
        language=person.language,
        reason="counsellor",
        priority="normal",
        status="claimed",
        created_at=now,
        claimed_at=now,
        claimed_by=counsellor.id,
    )
    session.add(handoff)
    session.flush()
    record(
        session,
        actor=counsellor.username,
        action="conversation_taken_over",
        target_type="handoff",
        target_id=handoff.id,
    )
    return handoff


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
