"""Rasa's tracker store and lock store, configured from Bousla's settings.

endpoints.yml names these classes so that one setting (`DATABASE_URL`, `REDIS_URL`)
switches every store at once, whether Rasa is started by `bousla run` or by hand.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.privacy.erasure import erase_after_turn, erasure_confirmed, latest_inbound_id
from bot.settings import get_settings
from bot.storage.db import build_engine, check_connection, describe_url
from bot.storage.redis_url import RedisUnavailable, check_redis

logger = logging.getLogger(__name__)


class TrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the application's database server.

    SQLite file `var/rasa_tracker.db` by default, the `DATABASE_URL` database otherwise.
    The connection is checked first: Rasa's own store would retry forever in silence.
    """

    def __init__(self, domain: Any = None, event_broker: Any = None, **_: Any) -> None:
        url = get_settings().tracker_database_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        check_connection(url)
        logger.info("Tracker store: %s", describe_url(url))
        super().__init__(domain=domain, host=url, event_broker=event_broker)
        if parsed.get_backend_name() != "sqlite":
            # Rasa's engine keeps dead connections after a database restart (no pre-ping),
            # and fails the next turns with them: use Bousla's engine settings instead.
            self.engine.dispose()
            self.engine = build_engine(url)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the turn; or, when the person has just confirmed the erasure of their
        data, store nothing and erase everything about them (bot.privacy). Rasa writes a
        turn's events here, after all its actions ran and its replies went out."""
        if erasure_confirmed(tracker.events):
            await asyncio.to_thread(
                erase_after_turn,
                person_id=tracker.sender_id,
                inbound_id=latest_inbound_id(tracker.events),
                tracker_engine=self.engine,
            )
            return
        await super().save(tracker)


class LockStoreFromSettings(LockStore):
    """Redis lock store when `REDIS_URL` is set (several replicas), in memory otherwise.

    Rasa instantiates this class by its dotted path; `__new__` hands back the real store.
    """

    def __new__(cls, endpoint_config: Any = None) -> LockStore:  # type: ignore[misc]
        redis_url = get_settings().redis_url
        if not redis_url:
            return InMemoryLockStore()
        parsed = make_url(redis_url.replace("rediss://", "redis://", 1))
        logger.info("Lock store: Redis at %s:%s", parsed.host, parsed.port or 6379)
        try:
            check_redis(redis_url)
        except RedisUnavailable as error:
            # Not fatal: messages wait in the inbox until Redis answers (bot.channels.worker).
            logger.error("%s Messages wait in the inbox until it answers.", error)
        return RedisLockStore(
            host=parsed.host or "localhost",
            port=parsed.port or 6379,
            db=int(parsed.database or 1),
            username=parsed.username,
            password=parsed.password,
            use_ssl=redis_url.startswith("rediss://"),
            key_prefix="bousla",
        )


def fail_loudly(agent: Any) -> None:
    """Make tracker store errors fail the turn instead of being swallowed.

    Rasa wraps every tracker store in a `FailSafeTrackerStore`, which on an error reads
    "no tracker" (the person would start over) and saves to memory (the turn would be lost
    at the next restart). With this, the error reaches the delivery worker, which keeps the
    message in the inbox and processes it again once the database answers.
    """
    from rasa.core.tracker_store import FailSafeTrackerStore

    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is None:
        store._on_tracker_store_error = _reraise


def _reraise(error: Exception) -> None:
    raise error
