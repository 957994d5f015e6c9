"""Passwords (argon2), session tokens, CSRF tokens and the login rate limit's numbers."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SESSION_COOKIE = "bousla_session"
SESSION_HOURS = 12  # a working day; then log in again
MIN_PASSWORD_LENGTH = 10
ROLES = ("counsellor", "admin")

# Login limits: failed attempts counted in the audit log (so they hold across restarts and
# dashboard replicas) over a sliding window. No lockout a stranger could cause: after a few
# free failures, each further one makes the next attempt wait twice as long, counted per
# account *and* client address (a stranger slows down only their own attempts on an
# account) and per client address over all accounts (guessing many accounts).
LOGIN_WINDOW_MINUTES = 15
FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS = 3
FREE_FAILURES_PER_ADDRESS = 10
MAX_LOGIN_DELAY_SECONDS = LOGIN_WINDOW_MINUTES * 60


def login_delay(failures: int, free: int) -> int:
    """Seconds to wait after the last failure: 0 for the free ones, then 1, 2, 4, ..."""
    if failures < free:
        return 0
    return min(2 ** (failures - free), MAX_LOGIN_DELAY_SECONDS)


_hasher = PasswordHasher()
# Verified when the username does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("bousla-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused (French, shown to admins), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit avoir au moins {MIN_PASSWORD_LENGTH} caractères."
    if password.strip() != password:
        return "Le mot de passe ne doit pas commencer ni finir par un espace."
    return None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database keeps of a session token (a leaked table opens no session)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(expected, given)
