"""bot.storage.leases, the queue mechanics the inbox, the outbox and the follow-ups share,
on SQLite and PostgreSQL: one winner per claim, renewals, retries, giving up."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import and_, or_, select

from bot.storage import leases
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, Person, utcnow


def add_rows(count: int) -> list[int]:
    now = utcnow()
    with session_scope() as session:
        session.add(Person(id="p", channel="whatsapp", created_at=now, last_seen_at=now))
        session.flush()
        rows = [
            InboundMessage(
                channel="whatsapp",
                provider_message_id=f"SM{index}",
                person_id="p",
                received_at=now,
                status="pending",
                attempts=0,
            )
            for index in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def claimable(now):
    return or_(
        InboundMessage.status == "pending",
        and_(InboundMessage.status == "processing", InboundMessage.lease_until < now),
    )


def claim(limit: int = 10, lease_seconds: float = 30) -> list[int]:
    now = utcnow()
    with session_scope() as session:
        return leases.claim(
            session,
            InboundMessage,
            candidates=select(InboundMessage.id)
            .where(claimable(now))
            .order_by(InboundMessage.id)
            .limit(limit),
            claimable=claimable(now),
            lease_seconds=lease_seconds,
            now=now,
            status="processing",
        )


def row(row_id: int) -> InboundMessage:
    with session_scope() as session:
        return session.get(InboundMessage, row_id)


def test_a_claim_sets_the_lease_counts_an_attempt_and_is_won_once(database_url):
    ids = add_rows(3)
    assert claim(limit=2) == ids[:2]
    assert claim() == ids[2:]
    assert claim() == []
    first = row(ids[0])
    assert first.status == "processing" and first.attempts == 1
    assert first.lease_until > utcnow() + timedelta(seconds=20)
    with session_scope() as session:
        assert leases.rows(session, InboundMessage, list(reversed(ids)))[0].id == ids[0]
        assert leases.rows(session, InboundMessage, []) == []


def test_concurrent_claimers_never_win_the_same_row(database_url):
    ids = add_rows(40)
    won: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def claimer(slot: int) -> None:
        barrier.wait()
        for _ in range(10):
            won[slot] += claim(limit=3)

    threads = [threading.Thread(target=claimer, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [row_id for slot in won for row_id in slot]
    assert sorted(every) == ids


def test_renew_moves_the_lease_of_rows_still_worked_on(database_url):
    ids = add_rows(2)
    claim(lease_seconds=1)
    with session_scope() as session:
        leases.release(session, InboundMessage, ids[1], status="done")
    with session_scope() as session:
        leases.renew(session, InboundMessage, ids, status="processing", lease_seconds=300)
    assert row(ids[0]).lease_until > utcnow() + timedelta(seconds=200)
    assert row(ids[1]).lease_until is None  # finished: not renewed


def test_retry_holds_the_row_then_gives_up_after_the_last_attempt(database_url):
    (row_id,) = add_rows(1)
    claim()
    with session_scope() as session:
        held = session.get(InboundMessage, row_id)
        status = leases.retry_or_give_up(
            held, error="boom", max_attempts=2, delay_seconds=lambda attempts: 60 * attempts
        )
        assert status == "processing"
        assert held.lease_until > utcnow() + timedelta(seconds=50)
    assert claim() == []  # held for the delay
    with session_scope() as session:
        held = session.get(InboundMessage, row_id)
        held.lease_until = utcnow() - timedelta(seconds=1)
    assert claim() == [row_id]
    with session_scope() as session:
        held = session.get(InboundMessage, row_id)
        # Not the row's fault: the attempt is taken back and it is never given up for it.
        assert (
            leases.retry_or_give_up(
                held,
                error="db down",
                max_attempts=2,
                delay_seconds=lambda _: 1,
                count_attempt=False,
            )
            == "processing"
        )
        assert held.attempts == 1
    with session_scope() as session:
        held = session.get(InboundMessage, row_id)
        held.attempts = 2
        assert (
            leases.retry_or_give_up(
                held, error="x" * 3000, max_attempts=2, delay_seconds=lambda _: 1
            )
            == "failed"
        )
    gone = row(row_id)
    assert gone.lease_until is None and len(gone.error) == leases.MAX_ERROR_LENGTH


def test_give_up_only_where_the_row_still_matches(database_url):
    first, second = add_rows(2)
    with session_scope() as session:
        still_pending = [InboundMessage.status == "pending"]
        assert leases.give_up(session, InboundMessage, first, error="no", where=still_pending) == 1
        assert (
            leases.give_up(session, InboundMessage, first, error="again", where=still_pending) == 0
        )
        leases.give_up(session, InboundMessage, second, error="skip", status="skipped")
    assert (row(first).status, row(first).error) == ("failed", "no")
    assert row(second).status == "skipped"
