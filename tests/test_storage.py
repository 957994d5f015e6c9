"""The application database on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.handoffs.service import request_handoff
from bot.privacy import NOTICE_VERSION, record_notice_shown
from bot.storage.db import DatabaseUnavailable, check_connection, get_engine, upgrade_database
from bot.storage.models import Consent, Handoff, InboundMessage, Person
from bot.storage.people import ensure_person
from tests.conftest import TEST_DATABASE_URL, requires_postgres


def test_migrations_create_every_table_and_are_idempotent(database_url):
    upgrade_database(database_url)  # second run: nothing to do, no error
    tables = set(inspect(get_engine(database_url)).get_table_names())
    assert {
        "persons",
        "consents",
        "inbound_messages",
        "outbound_messages",
        "handoffs",
        "handoff_notes",
        "referrals",
        "counsellors",
        "dashboard_sessions",
        "audit_log",
        "alembic_version",
    } <= tables


def test_ensure_person_creates_once_and_refreshes(session):
    first = ensure_person(session, person_id="p1", channel="whatsapp", address="whatsapp:+212600")
    seen = first.last_seen_at
    again = ensure_person(session, person_id="p1", channel="whatsapp", language="ary")
    session.commit()
    assert again is first
    assert again.address == "whatsapp:+212600"  # kept when not given again
    assert again.language == "ary"
    assert again.last_seen_at >= seen
    assert session.execute(select(Person)).scalars().all() == [first]


def test_inbound_messages_are_unique_per_provider_id(session):
    ensure_person(session, person_id="p1", channel="whatsapp")
    session.add(InboundMessage(channel="whatsapp", provider_message_id="SM1", person_id="p1"))
    session.commit()
    session.add(InboundMessage(channel="whatsapp", provider_message_id="SM1", person_id="p1"))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    # The same id on another channel is another message.
    session.add(InboundMessage(channel="telegram", provider_message_id="SM1", person_id="p1"))
    session.commit()


def test_deleting_a_person_deletes_their_rows(session):
    ensure_person(session, person_id="p1", channel="telegram")
    record_notice_shown(session, person_id="p1", channel="telegram")
    request_handoff(session, person_id="p1", channel="telegram", language="fr", reason="ask_human")
    session.commit()
    session.delete(session.get(Person, "p1"))
    session.commit()
    assert session.execute(select(Consent)).first() is None
    assert session.execute(select(Handoff)).first() is None


def test_notice_is_recorded_once_per_version(session):
    for _ in range(3):
        record_notice_shown(session, person_id="p2", channel="rest")
    session.commit()
    consents = session.execute(select(Consent)).scalars().all()
    assert [(c.kind, c.version) for c in consents] == [("notice", NOTICE_VERSION)]


def test_a_second_request_joins_the_active_handoff_and_raises_urgency(session):
    first = request_handoff(
        session, person_id="p3", channel="whatsapp", language="ary", reason="ask_human"
    )
    again = request_handoff(
        session, person_id="p3", channel="whatsapp", language="ary", reason="distress"
    )
    session.commit()
    assert again.id == first.id
    assert (again.priority, again.reason, again.status) == ("urgent", "distress", "open")


def test_unreachable_database_gives_one_clear_sentence():
    with pytest.raises(DatabaseUnavailable) as error:
        check_connection("postgresql://bousla@127.0.0.1:1/nowhere")
    message = str(error.value)
    assert "Cannot reach the database postgresql://bousla@127.0.0.1:1/nowhere" in message
    assert "DATABASE_URL" in message
    assert "\n" not in message


@requires_postgres
def test_connections_are_checked_after_sitting_idle_not_before_each_transaction(monkeypatch):
    """A connection the database dropped (a restart) is replaced before use once it sat
    idle; one in constant use is not pinged before each transaction: if it died, its next
    statement fails once and the pool is replaced."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from bot.storage import db

    engine = db.build_engine(TEST_DATABASE_URL)

    def backend() -> int:
        with engine.connect() as connection:
            return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

    def terminate(pid: int) -> None:  # what a restart of the database does to it
        killer = db.build_engine(TEST_DATABASE_URL)
        with killer.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()

    try:
        pid = backend()
        assert [backend() for _ in range(3)] == [pid] * 3  # the same connection, kept

        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # in use a moment ago
        terminate(pid)
        with pytest.raises(DBAPIError) as failed:
            backend()
        assert failed.value.connection_invalidated
        replaced = backend()
        assert replaced != pid

        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has sat idle
        terminate(replaced)
        assert backend() not in (pid, replaced)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=requires_postgres)], indirect=True
)
async def test_busy_database_threads_keep_their_connections(database_url):
    """Every database thread and webhook thread busy at once, many times over: the
    connections are opened once and kept, not opened and closed for each transaction."""
    import asyncio
    import time

    from sqlalchemy import text

    from bot.storage.db import (
        DATABASE_THREADS,
        WEBHOOK_THREADS,
        in_session,
        in_webhook_session,
    )

    backends = set()

    def slow(session):
        backends.add(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        session.execute(text("SELECT pg_sleep(0.01)"))
        time.sleep(0.005)

    for _ in range(5):
        await asyncio.gather(
            *(in_session(slow) for _ in range(DATABASE_THREADS * 2)),
            *(in_webhook_session(slow) for _ in range(WEBHOOK_THREADS * 2)),
        )
    assert 0 < len(backends) <= DATABASE_THREADS + WEBHOOK_THREADS
