"""The audit log: who did what (counsellors in the dashboard, staff commands, the bot)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.storage.models import AuditEntry, utcnow


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Add an entry (committed with the caller's transaction)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        details=details or None,
    )
    session.add(entry)
    return entry
