"""Counsellor accounts and login sessions (crud: keyword-only `session`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.dashboard import security
from bot.storage.audit import record
from bot.storage.models import AuditEntry, Counsellor, DashboardSession, utcnow


class AccountError(ValueError):
    """An account operation refused; the message is shown as is (French)."""


class LoginThrottled(Exception):
    """Too many failed logins for this username or address; try again later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class LoginSession:
    token: str  # goes in the cookie, never stored
    csrf_token: str
    expires_at: datetime


def normalise_username(username: str) -> str:
    return username.strip().lower()


def get_by_username(session: Session, *, username: str) -> Counsellor | None:
    return session.execute(
        select(Counsellor).where(Counsellor.username == normalise_username(username))
    ).scalar_one_or_none()


def create_counsellor(
    session: Session,
    *,
    username: str,
    password: str,
    role: str = "counsellor",
    display_name: str | None = None,
    actor: str = "cli",
) -> Counsellor:
    username = normalise_username(username)
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("Identifiant invalide : lettres, chiffres, point, tiret, souligné.")
    if role not in security.ROLES:
        raise AccountError(f"Rôle inconnu {role!r} (counsellor ou admin).")
    problem = security.password_problem(password)
    if problem:
        raise AccountError(problem)
    if get_by_username(session, username=username) is not None:
        raise AccountError(f"Le compte « {username} » existe déjà.")
    counsellor = Counsellor(
        username=username,
        display_name=(display_name or "").strip() or username,
        password_hash=security.hash_password(password),
        role=role,
        active=True,
        created_at=utcnow(),
    )
    session.add(counsellor)
    session.flush()
    record(
        session,
        actor=actor,
        action="account_created",
        target_type="counsellor",
        target_id=counsellor.id,
        details={"username": username, "role": role},
    )
    return counsellor


def set_password(session: Session, *, counsellor: Counsellor, password: str, actor: str) -> None:
    problem = security.password_problem(password)
    if problem:
        raise AccountError(problem)
    counsellor.password_hash = security.hash_password(password)
    # Every open session of the account ends: a reset is often about a lost device.
    session.execute(delete(DashboardSession).where(DashboardSession.counsellor_id == counsellor.id))
    record(
        session,
        actor=actor,
        action="password_changed",
        target_type="counsellor",
        target_id=counsellor.id,
    )


def set_active(session: Session, *, counsellor: Counsellor, active: bool, actor: str) -> None:
    counsellor.active = active
    if not active:
        session.execute(
            delete(DashboardSession).where(DashboardSession.counsellor_id == counsellor.id)
        )
    record(
        session,
        actor=actor,
        action="account_enabled" if active else "account_disabled",
        target_type="counsellor",
        target_id=counsellor.id,
    )


def list_counsellors(session: Session) -> list[Counsellor]:
    return list(session.execute(select(Counsellor).order_by(Counsellor.username)).scalars())


def _recent_failures(session: Session, *, since: datetime, **where: str) -> tuple[int, datetime]:
    """How many failed logins since `since`, and when the last one was."""
    query = select(func.count(AuditEntry.id), func.max(AuditEntry.at)).where(
        AuditEntry.action == "login_failed", AuditEntry.at >= since
    )
    if "username" in where:
        query = query.where(AuditEntry.actor == where["username"])
    if "address" in where:
        query = query.where(AuditEntry.target_id == where["address"])
    count, last = session.execute(query).one()
    return count, last or since


def login_wait_seconds(session: Session, *, username: str, address: str) -> int:
    """How long this client must still wait before trying this account (0: now)."""
    now = utcnow()
    since = now - timedelta(minutes=security.LOGIN_WINDOW_MINUTES)
    waits = []
    for where, free in (
        ({"username": username, "address": address},
         security.FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS),
        ({"address": address}, security.FREE_FAILURES_PER_ADDRESS),
    ):  # fmt: skip
        failures, last = _recent_failures(session, since=since, **where)
        if last.tzinfo is None and now.tzinfo is not None:
            last = last.replace(tzinfo=now.tzinfo)
        delay = security.login_delay(failures, free)
        waits.append((last + timedelta(seconds=delay) - now).total_seconds())
    return max(0, math.ceil(max(waits)))


def authenticate(
    session: Session, *, username: str, password: str, address: str
) -> Counsellor | None:
    """The active account for these credentials, or None (the failure is recorded).

    Raises `LoginThrottled` while this client must wait after its failures (progressive
    delays per account and client, and per client), even when the password is right.
    Failures from other clients never delay this one.
    """
    username = normalise_username(username)[:64]
    wait = login_wait_seconds(session, username=username, address=address)
    if wait > 0:
        raise LoginThrottled(wait)
    counsellor = get_by_username(session, username=username)
    valid = security.verify_password(counsellor.password_hash if counsellor else None, password)
    if not valid or counsellor is None or not counsellor.active:
        record(
            session,
            actor=username or "?",
            action="login_failed",
            target_type="address",
            target_id=address,
        )
        return None
    if security.needs_rehash(counsellor.password_hash):
        counsellor.password_hash = security.hash_password(password)
    return counsellor


def open_session(session: Session, *, counsellor: Counsellor, address: str) -> LoginSession:
    now = utcnow()
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now))
    token, csrf = security.new_token(), security.new_token()
    expires = now + timedelta(hours=security.SESSION_HOURS)
    session.add(
        DashboardSession(
            token_hash=security.token_digest(token),
            counsellor_id=counsellor.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    counsellor.last_login_at = now
    record(
        session,
        actor=counsellor.username,
        action="login",
        target_type="address",
        target_id=address,
    )
    return LoginSession(token=token, csrf_token=csrf, expires_at=expires)


def session_for_token(
    session: Session, *, token: str | None
) -> tuple[DashboardSession, Counsellor] | None:
    if not token:
        return None
    row = session.execute(
        select(DashboardSession, Counsellor)
        .join(Counsellor, Counsellor.id == DashboardSession.counsellor_id)
        .where(
            DashboardSession.token_hash == security.token_digest(token),
            DashboardSession.expires_at > utcnow(),
            Counsellor.active.is_(True),
        )
    ).first()
    return (row[0], row[1]) if row else None


def close_session(session: Session, *, token: str, actor: str) -> None:
    session.execute(
        delete(DashboardSession).where(DashboardSession.token_hash == security.token_digest(token))
    )
    record(session, actor=actor, action="logout")
