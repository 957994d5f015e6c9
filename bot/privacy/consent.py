"""Consent records: the notice shown on first contact and the answer to "may I keep your
answers?" are rows of `consents`, with the notice version and the time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Consent, utcnow
from bot.storage.people import ensure_person

# Bump when the wording of `utter_consent_notice` changes in substance: everybody sees
# the new notice once, and the record says which version each person was shown.
NOTICE_VERSION = "2026-11"


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
