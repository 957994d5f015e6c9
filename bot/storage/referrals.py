"""Referrals: programmes suggested to a person, and programmes they chose to look at.

A referral is "suggested" when Bousla shows a programme as an offer, "chosen" when the
person asks for its details or how to apply. They feed follow-ups ("did you contact
ANAPEC?") and impact reports. The same (person, programme, kind) within REPEAT_WINDOW
counts once: tapping "plus d'infos" then "comment postuler" is one choice, not two.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Referral, utcnow
from bot.storage.people import ensure_person

KINDS = ("suggested", "chosen")
REPEAT_WINDOW = timedelta(hours=24)


def record_referrals(
    session: Session,
    *,
    person_id: str,
    program_ids: Iterable[str],
    kind: str,
    channel: str,
    language: str | None,
) -> list[Referral]:
    """Store one referral per programme (unless the same one was stored in the window)."""
    if kind not in KINDS:
        raise ValueError(f"unknown referral kind {kind!r}")
    program_ids = list(dict.fromkeys(program_ids))
    if not program_ids:
        return []
    ensure_person(session, person_id=person_id, channel=channel)
    now = utcnow()
    recent = set(
        session.execute(
            select(Referral.program_id).where(
                Referral.person_id == person_id,
                Referral.kind == kind,
                Referral.program_id.in_(program_ids),
                Referral.created_at >= now - REPEAT_WINDOW,
            )
        ).scalars()
    )
    added = [
        Referral(
            person_id=person_id,
            program_id=program_id,
            kind=kind,
            channel=channel,
            language=language,
            created_at=now,
        )
        for program_id in program_ids
        if program_id not in recent
    ]
    session.add_all(added)
    session.flush()
    return added


def referrals_of(session: Session, person_id: str) -> list[Referral]:
    """A person's referrals, oldest first."""
    return list(
        session.execute(
            select(Referral).where(Referral.person_id == person_id).order_by(Referral.id)
        ).scalars()
    )
