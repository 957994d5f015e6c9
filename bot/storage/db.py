"""Engine, sessions and migrations for the application database.

SQLite by default (a file under `var/`), PostgreSQL when `DATABASE_URL` says so.
SQLAlchemy 1.4 is the line Rasa 3.6 requires; it is used 2.0-style (`future=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import get_settings

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """The database named by the settings cannot be reached; the message says which and why."""


def describe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while the Rasa server writes; busy_timeout waits
    # for the other writer instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL keeps every commit through a crash of the process (kill -9);
    # only a power cut may lose the last commits. FULL costs an fsync per commit (~50 ms
    # here), several times per message on the inbox/outbox path. PostgreSQL for production.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows (erasure, retention) are overwritten with zeros, not left in free pages.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def scrub_sqlite(*urls: str) -> None:
    """After an erasure on SQLite files: the erased text still sits in the `-wal` file
    (the frames written when it arrived) until a checkpoint. Copy the WAL into the database
    (where `secure_delete` zeroed the rows) and truncate it. Best effort: a reader holding
    an old snapshot delays the truncation to the next checkpoint. PostgreSQL: nothing."""
    for url in dict.fromkeys(urls):
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            continue
        if not Path(parsed.database).exists():
            continue
        connection = sqlite3.connect(parsed.database, timeout=10)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as error:
            logger.warning("Could not checkpoint %s after an erasure: %s", parsed.database, error)
        finally:
            connection.close()


DATABASE_THREADS = 8  # PostgreSQL; SQLite has one (`database_executor`)
WEBHOOK_THREADS = 2


def build_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and WAL mode."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A pool of open connections (SQLAlchemy 1.4 defaults to none for SQLite files):
        # opening one per session, and checkpointing the WAL when the last one closes,
        # cost ~40 ms per transaction here.
        engine = create_engine(
            url,
            future=True,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=10,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # As many kept connections as threads that use them (`database_executor`,
    # `webhook_executor`): with 5, under load every transaction beyond the fifth opened a
    # new PostgreSQL connection and closed it after (a backend started each time).
    engine = create_engine(
        url,
        future=True,
        pool_size=DATABASE_THREADS + WEBHOOK_THREADS,
        max_overflow=10,
        connect_args={"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {},
    )
    _ping_idle_connections(engine)
    return engine


# SQLAlchemy's `pool_pre_ping` sends `SELECT 1` before every transaction: under load, one
# round trip more for each of the 5–6 transactions of a WhatsApp message. A connection
# used less than this long ago is taken as it is; one left idle longer (where a restart
# of the database shows first) is checked, and replaced if the database has gone. A
# connection that dies while busy fails its statement once, which makes SQLAlchemy
# replace the whole pool; the delivery worker retries such work (bot/channels/outages.py).
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_idle_connections(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["bousla_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("bousla_idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or in use a moment ago
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        except Exception as error:
            # The pool drops this connection and checks out another (a new one if need be).
            raise DisconnectionError("the database connection was lost") from error
        finally:
            with contextlib.suppress(Exception):
                cursor.close()


def database_url(url: str | None = None) -> str:
    """`url`, or the settings' database."""
    return url or get_settings().app_database_url


# Both caches are keyed by the database's URL, never by None: an engine built for the
# settings of a moment ago (another test's, say) is never handed out for today's.
@lru_cache(maxsize=4)
def get_engine(url: str) -> Engine:
    return build_engine(url)


@lru_cache(maxsize=4)
def _session_factory(url: str) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    session: Session = _session_factory(database_url(url))()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


_database_threads: dict[bool, ThreadPoolExecutor] = {}


def database_executor() -> ThreadPoolExecutor:
    """Threads for database work: one for SQLite, several for PostgreSQL.

    SQLite takes one writer at a time and makes the others sleep and retry (up to 100 ms
    each time): with many messages at once, queueing the work in one thread is much
    faster than letting threads collide in SQLite's busy handler.
    """
    sqlite = get_settings().app_database_url.startswith("sqlite")
    if sqlite not in _database_threads:
        _database_threads[sqlite] = ThreadPoolExecutor(
            max_workers=1 if sqlite else DATABASE_THREADS, thread_name_prefix="bousla-db"
        )
    return _database_threads[sqlite]


def webhook_executor() -> ThreadPoolExecutor:
    """Threads that only store what webhooks bring (PostgreSQL; SQLite keeps its one).

    A webhook is answered once its message is stored. Under load the database threads
    hold a queue of turns' work (trackers, replies, claims); a webhook's insert waiting
    behind it kept Twilio waiting until it gave up (12 of 1,892 webhooks unacknowledged
    in `bousla bench load` on a loaded machine).
    """
    if get_settings().app_database_url.startswith("sqlite"):
        return database_executor()
    return _webhook_threads()


@lru_cache(maxsize=1)
def _webhook_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WEBHOOK_THREADS, thread_name_prefix="bousla-webhook-db")


async def in_session(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `work(session, *args, **kwargs)` in a database thread, in its own session
    (committed on success, rolled back on error), without blocking the event loop: how the
    Rasa server's channels and the action server's actions use the database."""
    return await _in_session_on(database_executor(), work, *args, **kwargs)


async def in_webhook_session(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`in_session` on the webhooks' own threads (`webhook_executor`)."""
    return await _in_session_on(webhook_executor(), work, *args, **kwargs)


async def _in_session_on(
    executor: ThreadPoolExecutor, work: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    def run() -> T:
        with session_scope() as session:
            return work(session, *args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(executor, run)


def check_connection(url: str) -> None:
    """Raise `DatabaseUnavailable` with one clear sentence if `url` cannot be reached."""
    try:
        with build_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnavailable(
            f"Cannot reach the database {describe_url(url)} ({reason}); "
            "check DATABASE_URL or unset it to use the local SQLite file."
        ) from None


def upgrade_database(url: str | None = None) -> None:
    """Apply Alembic migrations up to head (idempotent; safe to call at every start)."""
    from alembic import command
    from alembic.config import Config

    url = database_url(url)
    check_connection(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    engine = get_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Several replicas may start at once: one migrates, the others wait.
            connection.execute(text("SELECT pg_advisory_xact_lock(4242)"))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
