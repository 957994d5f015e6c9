"""Handoffs to a counsellor: queue, claim, resolve, cancel.

The bot (actions) queues and cancels; the dashboard claims, answers and resolves
(`bot.dashboard.inbox`). Statuses: open (waiting) -> claimed -> resolved, or cancelled
by the person while still open.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Handoff, utcnow
from bot.storage.people import ensure_person

URGENT_REASONS = frozenset({"distress"})
ACTIVE_STATUSES = ("open", "claimed")


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
