"""Rasa's tracker store and lock store, configured from Bousla's settings.

endpoints.yml names these classes so that one setting (`DATABASE_URL`, `REDIS_URL`)
switches every store at once, whether Rasa is started by `bousla run` or by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

from bot.settings import get_settings
from bot.storage.db import check_connection, describe_url

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
        return RedisLockStore(
            host=parsed.host or "localhost",
            port=parsed.port or 6379,
            db=int(parsed.database or 1),
            username=parsed.username,
            password=parsed.password,
            use_ssl=redis_url.startswith("rediss://"),
            key_prefix="bousla",
        )
