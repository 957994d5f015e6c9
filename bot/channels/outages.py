"""When a store is down: which errors say so, and one clear log line per outage.

The delivery worker (`bot.channels.worker`) keeps messages in the inbox and replies in
the outbox while the database or Redis (Rasa's lock store) cannot be reached, and resumes
when they answer again. Such failures are not the message's fault: they never count
towards the attempts after which a message is given up.
"""

from __future__ import annotations

import logging
import time

DATABASE = "the database"
REDIS = "Redis (Rasa's lock store)"
REPEAT_SECONDS = 60.0  # while an outage lasts, say so again this often


def unavailable_store(error: BaseException) -> str | None:
    """`DATABASE` or `REDIS` when `error` (or what caused it) says that store is unreachable."""
    import psycopg2
    import redis
    from sqlalchemy import exc as sa_exc

    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 5:
        if isinstance(current, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return REDIS
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return DATABASE
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return DATABASE
        if isinstance(current, psycopg2.OperationalError | psycopg2.InterfaceError):
            return DATABASE
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def reason(error: BaseException) -> str:
    """The first line of the error, short (no parameters, no addresses of people)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


class Outages:
    """Logs "X is unavailable" once when an outage starts (again every minute while it
    lasts) and "X answers again" when it ends, instead of a traceback per message."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.since: dict[str, float] = {}
        self.last_said: dict[str, float] = {}

    def down(self, store: str, error: BaseException) -> None:
        now = time.monotonic()
        if store not in self.since:
            self.since[store] = self.last_said[store] = now
            self.logger.error(
                "%s is unavailable (%s): messages wait in the inbox and replies in the "
                "outbox; they resume when it answers again.",
                store[0].upper() + store[1:],
                reason(error),
            )
        elif now - self.last_said[store] >= REPEAT_SECONDS:
            self.last_said[store] = now
            self.logger.error(
                "%s still unavailable after %.0f s (%s).",
                store[0].upper() + store[1:],
                now - self.since[store],
                reason(error),
            )

    def up(self, *stores: str) -> None:
        """The given stores (all when none given) worked again."""
        for store in stores or tuple(self.since):
            started = self.since.pop(store, None)
            if started is not None:
                self.last_said.pop(store, None)
                self.logger.warning(
                    "%s answers again after %.0f s; pending work resumes.",
                    store[0].upper() + store[1:],
                    time.monotonic() - started,
                )
