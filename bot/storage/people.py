"""People (by pseudonym): creation on first contact and profile updates."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from bot.storage.models import Person, utcnow

PROFILE_FIELDS = (
    "age",
    "education",
    "situation",
    "goal",
    "commune",
    "project_stage",
    "sector",
    "amount",
)


def ensure_person(
    session: Session,
    *,
    person_id: str,
    channel: str,
    address: str | None = None,
    language: str | None = None,
) -> Person:
    """The person with this pseudonym, created on first contact; `last_seen_at` refreshed."""
    person = session.get(Person, person_id)
    now = utcnow()
    if person is None:
        person = Person(id=person_id, channel=channel, created_at=now, last_seen_at=now)
        session.add(person)
    person.last_seen_at = now
    if address:
        person.address = address
    if language:
        person.language = language
    session.flush()
    return person


def profile_summary(person: Person) -> dict[str, object]:
    """The filled profile fields of a person, for counsellors and matching."""
    return {
        field: getattr(person, field)
        for field in PROFILE_FIELDS
        if getattr(person, field) is not None
    }


def save_profile(
    session: Session,
    *,
    person_id: str,
    channel: str,
    profile: Mapping[str, object],
    language: str | None = None,
) -> Person:
    """Store the profile answers on the person's row (only with their consent).

    Every field of PROFILE_FIELDS is written: a field missing from `profile` (skipped,
    not understood) is stored as unknown (None).
    """
    person = ensure_person(session, person_id=person_id, channel=channel, language=language)
    for field in PROFILE_FIELDS:
        setattr(person, field, profile.get(field))
    session.flush()
    return person


def clear_profile(session: Session, *, person_id: str) -> None:
    """Forget the profile answers (consent refused or withdrawn); the person row stays."""
    person = session.get(Person, person_id)
    if person is not None:
        for field in PROFILE_FIELDS:
            setattr(person, field, None)
        session.flush()
