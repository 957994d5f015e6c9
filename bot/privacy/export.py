"""Export: everything Bousla keeps about one person, as JSON (`bousla export`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.channels.outbound import conversation_rows
from bot.privacy.consent import NOTICE_VERSION
from bot.privacy.retention import RETENTION_DAYS
from bot.storage.audit import record
from bot.storage.models import (
    Consent,
    Handoff,
    HandoffNote,
    InboundMessage,
    OutboundMessage,
    Person,
    Referral,
    utcnow,
)
from bot.storage.people import profile_summary


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
    messages = [_message(row) for row in conversation_rows(session, person_id=person_id)]
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


def _message(row: InboundMessage | OutboundMessage) -> dict[str, Any]:
    if isinstance(row, InboundMessage):
        return {
            "at": _iso(row.received_at),
            "from": "person",
            "text": row.text,
            "button": row.payload,
            "media": row.media,
            "location": row.location,
        }
    return {
        "at": _iso(row.created_at),
        "from": row.author,
        "text": row.text,
        "buttons": row.buttons,
        "media": row.media,
        "status": row.status,
    }


def record_export(session: Session, *, person_id: str, actor: str) -> None:
    """The export is audited (linked to the person until they are erased)."""
    record(
        session, actor=actor, action="person_exported", target_type="person", target_id=person_id
    )
