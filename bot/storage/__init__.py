"""Application database: pseudonymous profiles, inbox/outbox, handoffs, referrals, audit."""

from bot.storage.db import DatabaseUnavailable, get_engine, session_scope, upgrade_database

__all__ = ["DatabaseUnavailable", "get_engine", "session_scope", "upgrade_database"]
