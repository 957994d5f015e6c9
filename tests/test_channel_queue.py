"""The inbox and outbox as queues, on SQLite and PostgreSQL: one claimer per row, one
row at a time per person, leases that expire, idempotent enqueueing."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update

from bot.channels import enqueue_message, transcript
from bot.channels.queue import (
    ClaimedInbound,
    claim_inbound,
    claim_outbound,
    enqueue_and_claim,
    finish_inbound,
    finish_inbound_and_claim_next,
    mark_sent,
    record_inbound,
)
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, OutboundMessage, Person, utcnow


def inbound(person: str, provider_id: str) -> int | None:
    with session_scope() as session:
        return record_inbound(
            session, channel="whatsapp", provider_message_id=provider_id, person_id=person,
            address=f"whatsapp:+2126{abs(hash(person)) % 10**8:08d}", text=provider_id,
        )  # fmt: skip


def claim_in(limit: int = 10, lease: float = 30) -> list[int]:
    with session_scope() as session:
        rows = claim_inbound(session, channels=["whatsapp"], limit=limit, lease_seconds=lease)
        return [row.id for row in rows]


def claim_out(limit: int = 10) -> list[int]:
    with session_scope() as session:
        rows = claim_outbound(session, channels=["whatsapp"], limit=limit, lease_seconds=30)
        return [row.id for row in rows]


def test_a_replayed_message_is_recorded_once(database_url):
    first = inbound("p1", "SM1")
    assert first is not None
    assert inbound("p1", "SM1") is None
    with session_scope() as session:
        assert session.query(InboundMessage).count() == 1
        assert session.get(Person, "p1").last_inbound_at is not None


def test_only_the_oldest_unfinished_message_of_a_person_is_claimed(database_url):
    a1, a2, b1 = inbound("a", "A1"), inbound("a", "A2"), inbound("b", "B1")
    assert claim_in() == [a1, b1]
    assert claim_in() == []  # a2 waits for a1; b has nothing else
    with session_scope() as session:
        finish_inbound(session, a1)
    assert claim_in() == [a2]


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(database_url):
    message = inbound("p", "SM1")
    assert claim_in(lease=30) == [message]
    assert claim_in() == []
    with session_scope() as session:
        session.execute(update(InboundMessage).values(lease_until=utcnow() - timedelta(seconds=1)))
    assert claim_in() == [message]
    with session_scope() as session:
        assert session.get(InboundMessage, message).attempts == 2


def test_concurrent_claimers_never_share_a_row(database_url):
    for index in range(60):
        inbound(f"person-{index}", f"SM{index}")
    claimed: list[list[int]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def claimer(slot: int) -> None:
        barrier.wait()
        for _ in range(10):
            claimed[slot] += claim_in(limit=5)

    threads = [threading.Thread(target=claimer, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [row for rows in claimed for row in rows]
    assert len(everything) == len(set(everything)) == 60


def test_outbox_rows_wait_for_their_turn_and_their_retry_time(database_url):
    inbound("p", "SM1")
    with session_scope() as session:
        first = enqueue_message(session, person_id="p", channel="whatsapp", text="one").id
        second = enqueue_message(session, person_id="p", channel="whatsapp", text="two").id
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == first)
            .values(next_attempt_at=utcnow() + timedelta(minutes=1))
        )
    assert claim_out() == []  # "two" never overtakes "one", even while "one" waits
    with session_scope() as session:
        session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))
    assert claim_out() == [first]
    with session_scope() as session:
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == first).values(status="sent")
        )
    assert claim_out() == [second]


def test_enqueue_is_idempotent_and_splits_long_texts(database_url):
    inbound("p", "SM1")
    text = "Une phrase. " * 300
    with session_scope() as session:
        first = enqueue_message(session, person_id="p", channel="whatsapp", text=text,
                                buttons=[{"title": "OK", "payload": "/affirm"}],
                                idempotency_key="in:1:1")  # fmt: skip
        again = enqueue_message(session, person_id="p", channel="whatsapp", text=text,
                                idempotency_key="in:1:1")  # fmt: skip
        assert again.id == first.id
        parts = session.query(OutboundMessage).order_by(OutboundMessage.id).all()
        assert [p.idempotency_key for p in parts] == ["in:1:1", "in:1:1#2", "in:1:1#3"]
        assert [p.buttons for p in parts] == [None, None, [{"title": "OK", "payload": "/affirm"}]]
        assert all(len(p.text) <= 1600 for p in parts)
        entries = transcript(session, person_id="p")
        assert [e.author for e in entries] == ["person", "bot", "bot", "bot"]


# ------------------------------------------------------------ work started at once


def inbound_claimed(person: str, provider_id: str) -> int | None:
    """A webhook of a worker that can start at once (`ChannelWorker.claim_for()`)."""
    with session_scope() as session:
        return record_inbound(
            session, channel="whatsapp", provider_message_id=provider_id, person_id=person,
            address="whatsapp:+212600000000", text=provider_id, claim_for=30,
        )  # fmt: skip


def test_a_message_is_claimed_as_it_is_stored_when_its_person_has_nothing_older(database_url):
    first = inbound_claimed("p", "SM1")
    assert isinstance(first, ClaimedInbound)
    assert (first.snapshot.id, first.snapshot.text, first.snapshot.attempts) == (first, "SM1", 1)
    assert not first.snapshot.tried_before
    second = inbound_claimed("p", "SM2")  # written before the first one was answered
    assert second is not None and not isinstance(second, ClaimedInbound)
    assert inbound_claimed("p", "SM2") is None  # a replayed webhook: nothing new
    with session_scope() as session:
        rows = {r.id: r for r in session.query(InboundMessage)}
        assert (rows[first].status, rows[first].attempts) == ("processing", 1)
        assert rows[first].lease_until is not None
        assert (rows[second].status, rows[second].attempts) == ("pending", 0)
    assert claim_in() == []  # the first one is taken; the second one waits for it
    with session_scope() as session:
        following = finish_inbound_and_claim_next(session, first.snapshot, lease_seconds=30)
    assert following is not None and (following.id, following.text) == (second, "SM2")
    with session_scope() as session:
        assert session.get(InboundMessage, first).status == "done"
        assert session.get(InboundMessage, second).status == "processing"
        assert finish_inbound_and_claim_next(session, following, lease_seconds=30) is None


def test_two_messages_of_one_person_stored_at_once_are_never_both_claimed(database_url):
    """Two replicas storing the same person's messages at the same moment: one at most
    is started; the other waits for it (order kept)."""

    def store(results: list, barrier: threading.Barrier, person: str, slot: int) -> None:
        barrier.wait()
        results[slot] = inbound_claimed(person, f"SM-{person}-{slot}")

    for round_ in range(8):
        results: list[int | None] = [None, None]
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(target=store, args=(results, barrier, f"person-{round_}", slot))
            for slot in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(r is not None for r in results)
        assert sum(isinstance(r, ClaimedInbound) for r in results) <= 1
        started = [r for r in results if isinstance(r, ClaimedInbound)]
        if started:  # the one started is the older one
            assert started[0] == min(results)


def test_a_reply_is_claimed_as_it_is_queued_and_the_next_one_follows_it(database_url):
    inbound("p", "SM1")
    with session_scope() as session:
        first = enqueue_and_claim(session, claim_for=30, person_id="p", channel="whatsapp",
                                  text="one", idempotency_key="in:1:1")  # fmt: skip
    with session_scope() as session:
        second = enqueue_and_claim(session, claim_for=30, person_id="p", channel="whatsapp",
                                   text="two", idempotency_key="in:1:2")  # fmt: skip
        again = enqueue_and_claim(session, claim_for=30, person_id="p", channel="whatsapp",
                                  text="one", idempotency_key="in:1:1")  # fmt: skip
    assert [(row.text, row.address) for row in first] == [("one", "whatsapp:+2126" + (
        f"{abs(hash('p')) % 10**8:08d}"))]  # fmt: skip
    first = first[0]
    assert second == []  # "two" waits for "one", which is on its way
    assert again == []  # queued before: never claimed twice
    assert claim_out() == []
    with session_scope() as session:
        mark_sent(session, first.id, provider_message_id="SM-one", template=None, commit=False)
        following = claim_outbound(session, channels=["whatsapp"], limit=1,
                                   lease_seconds=30, person_id="p")  # fmt: skip
    assert [(row.text, row.attempts) for row in following] == [("two", 1)]
    with session_scope() as session:
        assert session.get(OutboundMessage, first.id).status == "sent"


def test_a_reply_is_claimed_behind_the_replies_its_worker_is_sending(database_url):
    """`behind`: a turn's next reply joins the rows its worker holds, and never overtakes
    a row it does not hold, nor one of its own that went back to the queue."""
    from bot.channels.queue import release_unsent

    inbound("p", "SM1")

    def reply(text: str, behind=()) -> list:
        with session_scope() as session:
            return enqueue_and_claim(session, claim_for=30, person_id="p", channel="whatsapp",
                                     text=text, behind=behind)  # fmt: skip

    [first] = reply("one")
    [second] = reply("two", behind=[first.id])  # held by the same worker: follows it
    parts = reply("Une phrase assez longue pour compter. " * 90, behind=[first.id, second.id])
    assert len(parts) == 3 and [p.id for p in parts] == sorted(p.id for p in parts)
    assert reply("three", behind=[first.id]) == []  # `two` and the parts are not held
    with session_scope() as session:
        release_unsent(session, [second.id, *(p.id for p in parts)])
        assert session.get(OutboundMessage, second.id).attempts == 0
    # `two` is back in the queue: what comes after waits for it, held list or not.
    assert reply("four", behind=[first.id, second.id]) == []
    assert claim_out() == []  # `one` is still on its way
    with session_scope() as session:
        mark_sent(session, first.id, provider_message_id="SM-one", template=None)
    assert claim_out() == [second.id]


async def test_a_replica_starts_messages_at_once_only_while_it_has_room(database_url):
    """Beyond `TURNS_AT_ONCE` turns under way, a webhook's message waits in the
    shared inbox (any replica may take it); replies are still sent at once."""
    from bot.channels.whatsapp import WhatsAppInput
    from bot.channels.worker import TURNS_AT_ONCE, ChannelWorker

    channel = WhatsAppInput(account_sid="AC0", auth_token="token", whatsapp_from="whatsapp:+1",
                            base_url="http://127.0.0.1:9")  # fmt: skip
    worker = ChannelWorker(poll_seconds=60)
    worker.register(channel, lambda message: None)
    assert worker.claim_for() is None  # not started: everything waits in the queues
    await worker.start()
    try:
        assert worker.claim_for() == worker.lease_seconds
        for index in range(TURNS_AT_ONCE):
            worker._inbox.busy[-1 - index] = None  # turns under way
        assert worker.claim_for() is None
        assert worker.claim_for(outbox=True) == worker.lease_seconds
    finally:
        worker._inbox.busy.clear()
        await worker.stop()


async def test_a_replica_works_on_at_most_turns_at_once_and_leaves_the_rest_queued(database_url):
    """A turn is CPU work on the server's event loop: a replica takes at most
    `TURNS_AT_ONCE` messages from the inbox at a time; the others wait there (for it, or
    for another replica) and are all answered in the end."""
    import asyncio

    from bot.channels.whatsapp import WhatsAppInput
    from bot.channels.worker import TURNS_AT_ONCE, ChannelWorker

    for index in range(TURNS_AT_ONCE + 6):
        inbound(f"person-{index}", f"SM{index}")
    release = asyncio.Event()
    under_way: list[str] = []
    most = 0

    async def turn(message) -> None:
        nonlocal most
        under_way.append(message.sender_id)
        most = max(most, len(under_way))
        await release.wait()
        under_way.remove(message.sender_id)

    channel = WhatsAppInput(account_sid="AC0", auth_token="token", whatsapp_from="whatsapp:+1",
                            base_url="http://127.0.0.1:9")  # fmt: skip
    worker = ChannelWorker(poll_seconds=0.05)
    worker.register(channel, turn)
    await worker.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if len(under_way) == TURNS_AT_ONCE:
                break
        await asyncio.sleep(0.3)  # time for the worker to claim more, if it would
        assert len(under_way) == most == TURNS_AT_ONCE
        with session_scope() as session:
            assert session.query(InboundMessage).filter_by(status="pending").count() == 6
        release.set()
        for _ in range(200):
            await asyncio.sleep(0.05)
            with session_scope() as session:
                done = session.query(InboundMessage).filter_by(status="done").count()
            if done == TURNS_AT_ONCE + 6:
                break
        assert done == TURNS_AT_ONCE + 6 and most == TURNS_AT_ONCE
    finally:
        release.set()
        await worker.stop()
