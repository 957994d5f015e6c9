"""The handoff service: every change to a request for a counsellor, for the bot's actions
and the dashboard alike (keyword-only `session`; the caller commits).

Statuses: open (waiting) -> claimed -> resolved, or cancelled by the person while still
open. The bot requests and cancels; counsellors claim, reply, take notes, resolve (which
hands the conversation back to the bot) and take over any conversation.

Operations that change what the bot does steer it first (`BotControl`, Rasa's HTTP API in
the dashboard), then write: if the bot cannot be reached nothing changes, and the
counsellor is told to try again.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.outbound import enqueue_message
from bot.storage.audit import record
from bot.storage.models import Counsellor, Handoff, HandoffNote, OutboundMessage, Person, utcnow
from bot.storage.people import ensure_person

# distress: the danger tier; check_in: the person said yes to the safety check-in (or wrote
# more distress after it); turn_failed: a message the bot could not handle (an alert).
URGENT_REASONS = frozenset({"distress", "check_in", "turn_failed"})
ACTIVE_STATUSES = ("open", "claimed")
STATUSES = ("open", "claimed", "resolved", "cancelled")
OUTCOMES = (
    "listened",
    "listening_only",
    "emergency_called",
    "safety_plan",
    "referred_partner",
    "referred",
    "oriented",
    "no_answer",
    "other",
)
MAX_TEXT_LENGTH = 4000


class HandoffError(Exception):
    """An operation refused; `status_code` for the API, `message` in French for people."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(HandoffError):
    status_code = 404


class Conflict(HandoffError):
    status_code = 409


class BotControl(Protocol):
    """How counsellors' operations steer the bot in one conversation
    (`bot.dashboard.rasa_api.RasaClient`); both raise when the bot cannot be reached."""

    def pause(self, conversation_id: str) -> None: ...

    def hand_back(self, conversation_id: str, *, with_message: bool = True) -> list[dict]: ...


# ---------------------------------------------------------------- the bot's side


def active_handoff(session: Session, *, person_id: str) -> Handoff | None:
    """The person's handoff that is still waiting or being handled, if any."""
    return (
        session.execute(
            select(Handoff)
            .where(Handoff.person_id == person_id, Handoff.status.in_(ACTIVE_STATUSES))
            .order_by(Handoff.id.desc())
        )
        .scalars()
        .first()
    )


def request_handoff(
    session: Session, *, person_id: str, channel: str, language: str | None, reason: str
) -> Handoff:
    """Queue a request for a human at once; a second request joins the active one.

    A more urgent reason raises the priority of the request already in the queue.
    """
    ensure_person(session, person_id=person_id, channel=channel, language=language)
    priority = "urgent" if reason in URGENT_REASONS else "normal"
    handoff = active_handoff(session, person_id=person_id)
    if handoff is None:
        handoff = Handoff(
            person_id=person_id,
            channel=channel,
            language=language,
            reason=reason,
            priority=priority,
            status="open",
            created_at=utcnow(),
        )
        session.add(handoff)
    elif priority == "urgent" and handoff.priority != "urgent":
        handoff.priority = "urgent"
        handoff.reason = reason
    session.flush()
    return handoff


def request_from_bot(
    session: Session,
    *,
    person_id: str,
    channel: str,
    language: str | None,
    reason: str,
    details: dict | None = None,
) -> int:
    """The bot queues (or joins) the person's request; with `details` (the distress
    category and what found it), the audit log says why: `distress_detected`, `check_in`,
    `turn_failed`... Returns the request's id."""
    handoff = request_handoff(
        session, person_id=person_id, channel=channel, language=language, reason=reason
    )
    if details is not None:
        record(
            session,
            actor="bot",
            action="distress_detected" if reason == "distress" else reason,
            target_type="handoff",
            target_id=handoff.id,
            details=details,
        )
    return handoff.id


def cancel_waiting_handoff(session: Session, *, person_id: str) -> Handoff | None:
    """Cancel the person's request if nobody has taken it yet; urgent ones stay queued.

    Returns the cancelled handoff, or None when there was nothing the person may cancel.
    """
    handoff = active_handoff(session, person_id=person_id)
    if handoff is None or handoff.status != "open" or handoff.priority == "urgent":
        return None
    handoff.status = "cancelled"
    handoff.resolved_at = utcnow()
    session.flush()
    return handoff


# ---------------------------------------------------------------- the counsellors' side


def get_handoff(session: Session, *, handoff_id: int) -> Handoff:
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("Demande introuvable.")
    return handoff


def claim(
    session: Session, *, handoff: Handoff, counsellor: Counsellor, rasa: BotControl
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
    _audit(session, counsellor, "handoff_claimed", handoff)
    return handoff


def reply(
    session: Session,
    *,
    handoff: Handoff,
    counsellor: Counsellor,
    text: str,
    rasa: BotControl,
    client_key: str | None = None,
) -> OutboundMessage:
    """Send the counsellor's message on the person's channel (through the outbox).

    Replying to a request nobody has taken takes it first, so the bot falls silent.
    `client_key` makes a double submit of the same form send one message.
    """
    text = _clean_text(text)
    _ensure_active(handoff)
    _ensure_holder(session, handoff, counsellor)
    if handoff.status == "open":
        claim(session, handoff=handoff, counsellor=counsellor, rasa=rasa)
    message = enqueue_message(
        session,
        person_id=handoff.person_id,
        channel=_channel_of(session, handoff),
        text=text,
        author="counsellor",
        counsellor_id=counsellor.id,
        handoff_id=handoff.id,
        idempotency_key=f"counsellor:{handoff.id}:{client_key}" if client_key else None,
    )
    _audit(session, counsellor, "message_sent", handoff, {"outbound_id": message.id})
    return message


def add_note(
    session: Session, *, handoff: Handoff, counsellor: Counsellor, text: str
) -> HandoffNote:
    """A private note (never sent to the person); allowed on closed requests too."""
    _ensure_holder(session, handoff, counsellor)
    note = HandoffNote(
        handoff_id=handoff.id,
        counsellor_id=counsellor.id,
        text=_clean_text(text),
        created_at=utcnow(),
    )
    session.add(note)
    session.flush()
    _audit(session, counsellor, "note_added", handoff)
    return note


def resolve(
    session: Session,
    *,
    handoff: Handoff,
    counsellor: Counsellor,
    outcome: str,
    hand_back: bool,
    rasa: BotControl,
) -> list[OutboundMessage]:
    """Close the request with its outcome and hand the conversation back to the bot
    (`hand_back_to_bot`). Returns the messages queued for the person."""
    if outcome not in OUTCOMES:
        raise HandoffError(f"Issue inconnue {outcome!r} ({', '.join(OUTCOMES)}).")
    _ensure_active(handoff)
    _ensure_holder(session, handoff, counsellor)
    queued = hand_back_to_bot(session, handoff=handoff, rasa=rasa, with_message=hand_back)
    now = utcnow()
    handoff.status = "resolved"
    handoff.resolved_at = now
    handoff.outcome = outcome
    handoff.handed_back = hand_back
    if handoff.claimed_by is None:
        handoff.claimed_by = counsellor.id
        handoff.claimed_at = now
    _audit(
        session,
        counsellor,
        "handoff_resolved",
        handoff,
        {"outcome": outcome, "hand_back": hand_back},
    )
    return queued


def hand_back_to_bot(
    session: Session, *, handoff: Handoff, rasa: BotControl, with_message: bool
) -> list[OutboundMessage]:
    """The bot resumes for this person. With `with_message`, the person is told in their
    language that they are back with the bot (Rasa renders `utter_handed_back`), through
    the outbox; without it the bot resumes silently. Returns the messages queued."""
    bot_messages = rasa.hand_back(handoff.person_id, with_message=with_message)
    channel = _channel_of(session, handoff)
    return [
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


def takeover(
    session: Session, *, person_id: str, counsellor: Counsellor, rasa: BotControl
) -> Handoff:
    """A counsellor's own choice: take any conversation (joins a request already queued)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("Personne introuvable.")
    existing = active_handoff(session, person_id=person_id)
    if (
        existing is not None
        and existing.status == "claimed"
        and existing.claimed_by
        not in (
            None,
            counsellor.id,
        )
    ):
        return _transfer(session, handoff=existing, counsellor=counsellor)
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
    _audit(session, counsellor, "conversation_taken_over", handoff)
    return handoff


def _transfer(session: Session, *, handoff: Handoff, counsellor: Counsellor) -> Handoff:
    """Taking over a request a colleague holds: recorded as a transfer (the bot stays
    paused), so the request always names the one who writes."""
    previous = handoff.claimed_by
    taken = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == "claimed")
        .where(Handoff.claimed_by == previous)
        .values(claimed_by=counsellor.id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if not taken:
        raise Conflict("Un collègue vient de changer cette demande : recharge la page.")
    holder = session.get(Counsellor, previous)
    _audit(
        session,
        counsellor,
        "handoff_transferred",
        handoff,
        {"from": holder.username if holder else None},
    )
    return handoff


def record_view(session: Session, *, handoff: Handoff, counsellor: Counsellor) -> None:
    """Reading a conversation is access to personal data: it goes in the audit log."""
    _audit(session, counsellor, "conversation_viewed", handoff)


# ---------------------------------------------------------------- shared


def _audit(
    session: Session,
    counsellor: Counsellor,
    action: str,
    handoff: Handoff,
    details: dict | None = None,
) -> None:
    record(
        session,
        actor=counsellor.username,
        action=action,
        target_type="handoff",
        target_id=handoff.id,
        details=details,
    )


def _channel_of(session: Session, handoff: Handoff) -> str:
    """Where the person writes now (their latest channel), else where they asked from."""
    person = session.get(Person, handoff.person_id)
    return person.channel if person else handoff.channel


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise HandoffError("Le message est vide.")
    if len(text) > MAX_TEXT_LENGTH:
        raise HandoffError(f"Le message dépasse {MAX_TEXT_LENGTH} caractères.")
    return text


def _ensure_holder(session: Session, handoff: Handoff, counsellor: Counsellor) -> None:
    """Only the counsellor who holds a request writes in it: a colleague takes over first
    (`takeover`, recorded as a transfer)."""
    if handoff.status != "claimed" or handoff.claimed_by in (None, counsellor.id):
        return
    holder = session.get(Counsellor, handoff.claimed_by)
    name = holder.display_name if holder else "un collègue"
    raise Conflict(f"Prise en charge par {name} : prends la main d'abord (« Prendre la main »).")


def _ensure_active(handoff: Handoff) -> None:
    if handoff.status not in ACTIVE_STATUSES:
        label = "résolue" if handoff.status == "resolved" else "annulée"
        raise Conflict(
            f"Cette demande est déjà {label} : le bot a repris la conversation. "
            "Reprends la main depuis « Conversations » pour écrire à nouveau."
        )
