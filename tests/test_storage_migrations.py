"""Migration 0003 on SQLite and PostgreSQL: the erasure state of outbox rows becomes a
column, and the rows marked by the old key prefix are converted (and back on downgrade)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import text

from bot.storage import db as storage_db
from bot.storage.models import Base
from tests.conftest import TEST_DATABASE_URL, requires_postgres, reset_postgres

ROWS = {  # idempotency key -> erasure pending after the upgrade
    "erasure:whatsapp-anna:1": True,
    "in:7:1": False,
    None: False,
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=requires_postgres)])
def fresh_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    reset_postgres(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(storage_db.MIGRATIONS_DIR))
    config.attributes["configure_logger"] = False
    engine = storage_db.build_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def outbox(url: str) -> dict:
    engine = storage_db.build_engine(url)
    try:
        with engine.connect() as connection:
            return {
                key: bool(pending)
                for key, pending in connection.execute(
                    text("SELECT idempotency_key, erasure_pending FROM outbound_messages")
                )
            }
    finally:
        engine.dispose()


def test_0003_converts_the_rows_marked_by_their_key_and_back(fresh_url):
    migrate(fresh_url, "0002")
    engine = storage_db.build_engine(fresh_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO persons (id, channel, created_at, last_seen_at) "
                "VALUES ('whatsapp-anna', 'whatsapp', :now, :now)"
            ),
            {"now": "2026-12-01 10:00:00"},
        )
        for key in ROWS:
            connection.execute(
                text(
                    "INSERT INTO outbound_messages (person_id, channel, author, idempotency_key,"
                    " status, attempts, next_attempt_at, created_at) VALUES ('whatsapp-anna',"
                    " 'whatsapp', 'bot', :key, 'pending', 0, :now, :now)"
                ),
                {"key": key, "now": "2026-12-01 10:00:00"},
            )
    engine.dispose()

    migrate(fresh_url, "head")
    assert outbox(fresh_url) == ROWS

    migrate(fresh_url, "0002", down=True)
    engine = storage_db.build_engine(fresh_url)
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT idempotency_key FROM outbound_messages"))
        assert {key for (key,) in keys} == set(ROWS)  # nothing lost
    engine.dispose()
    migrate(fresh_url, "head")
    assert outbox(fresh_url) == ROWS


def test_the_migrations_create_the_outbox_the_model_describes(session):
    context = MigrationContext.configure(session.connection())
    differences = [
        d for d in compare_metadata(context, Base.metadata) if "outbound_messages" in repr(d)
    ]
    assert differences == []
