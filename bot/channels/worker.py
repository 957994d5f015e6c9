"""The delivery worker: inbox rows to Rasa, outbox rows to the providers.

One worker runs in each Rasa server process, started by the channels' blueprints after
the server starts (`bot.channels.base`, which starts the follow-up scheduler beside it).
It drains two queues of the database the same way (`_drain`; leases and ordering in
`bot.channels.queue` and `bot.storage.leases`), so it resumes whatever a crash or a restart
left unfinished, and several replicas can share the same database without doing anything
twice:

- inbox: each claimed row goes to Rasa (`on_new_message`) with an `OutboxOutput`; the
  replies become outbox rows keyed `in:<inbound id>:<n>`. A row processed again after a
  crash is skipped if the tracker already holds its message id, and re-queues nothing
  otherwise (same keys).
- outbox: each claimed row goes to its channel's `Sender`; 429, 5xx and network errors
  are retried with exponential backoff (configurable, see settings) until the provider
  accepts the message or `BOUSLA_RETRY_GIVE_UP_SECONDS` have passed.

A message stored by a webhook of this process, or a reply queued by a turn of this
process, whose person has nothing older unfinished, is claimed in the transaction that
stores it and started at once (`claim_for`, `inbox_recorded`, `outbox_queued`); when a
row is done, its person's next one is claimed in the transaction that records the result.
Only the rest (a full lane, a failure, a person busy elsewhere) waits for a claim of the
whole queue: woken by webhooks and replies, and every `BOUSLA_CHANNEL_POLL_SECONDS` for
rows written by other processes (counsellors' replies from the dashboard).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import UserUttered

from bot.channels import queue, safety_net, spool
from bot.channels.outages import DATABASE, Outages, unavailable_store
from bot.channels.sending import PermanentSendError, Sender, SendOutcome, TransientSendError
from bot.privacy.erasure import after_delivery
from bot.settings import get_settings
from bot.storage.db import in_session
from bot.storage.models import utcnow
from bot.storage.rasa_stores import fail_loudly

logger = logging.getLogger(__name__)

INBOX_MAX_ATTEMPTS = 5
# A message that failed because the database or Redis was down waits this long (the
# attempt does not count towards INBOX_MAX_ATTEMPTS).
STORE_RETRY_SECONDS = 3.0

T = TypeVar("T")
# Turns a replica works on at once; beyond, messages wait in the shared inbox and go to
# whichever replica claims them first. A turn is CPU work on the server's one event loop:
# more at once do not go faster, and each one more delays everything else on that loop,
# webhooks included (with 64, acknowledgements took over 30 s under overload in `bousla
# bench load`). And a replica that started every message its webhook received would get
# every conversation from the load balancer, which sends webhooks to the replica that
# answered last.
TURNS_AT_ONCE = 16


class Channel(Protocol):
    """What the worker needs of an input channel (`bot.channels.base.ProviderInput`)."""

    @classmethod
    def name(cls) -> str: ...

    def sender(self) -> Sender: ...

    def output(self, inbound_id: int | None, delivery: Any) -> Any: ...

    async def prepare(self, message: queue.InboundSnapshot) -> Any: ...


@dataclass
class _Lane:
    """One queue the worker drains (the inbox or the outbox): claimed rows, each handled in
    its own task, at most `limit` at a time."""

    name: str
    limit: int
    claim: Callable[..., list[Any]]  # queue.claim_inbound or queue.claim_outbound
    channels: Callable[[], list[str]]
    ready: Callable[[], bool]
    begin: Callable[[Any], None]  # start the work on one claimed row
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    busy: dict[int, asyncio.Task] = field(default_factory=dict)
    # Rows may be waiting that nobody started (the lane was full, or a handler failed):
    # the next row finished wakes the lane to claim them. Otherwise a finished row wakes
    # nothing: rows written here start at once or follow their person's previous one.
    backlog: bool = False


@dataclass(eq=False)
class _Replies:
    """A person's outbox rows this worker holds (claimed) and sends one after the other, in
    one task. A reply queued while the task runs is claimed behind these rows and added
    here (`OutboxOutput.enqueue`), so it leaves as soon as the previous one is accepted,
    without a claim of its own; recording each row as sent goes on beside the sends."""

    key: tuple[str, str]  # (person, channel)
    rows: deque[queue.OutboundSnapshot]
    current: int | None = None
    taking: bool = True  # still takes rows queued behind its own
    failed: bool = False  # a send failed: rows queued behind go back to the queue

    def row_ids(self) -> list[int]:
        """The rows held: the one being sent and those waiting."""
        held = [row.id for row in self.rows]
        return held if self.current is None else [self.current, *held]


class ChannelWorker:
    def __init__(
        self,
        *,
        lease_seconds: float = 30.0,
        max_concurrent: int = 64,
        poll_seconds: float | None = None,
        retry_base_seconds: float | None = None,
        retry_max_seconds: float | None = None,
        give_up_seconds: float | None = None,
    ) -> None:
        settings = get_settings()
        self.lease_seconds = lease_seconds
        self.max_concurrent = max_concurrent
        self.poll_seconds = poll_seconds or settings.channel_poll_seconds
        self.retry_base_seconds = retry_base_seconds or settings.retry_base_seconds
        self.retry_max_seconds = retry_max_seconds or settings.retry_max_seconds
        self.give_up_seconds = give_up_seconds or settings.retry_give_up_seconds
        self.inputs: dict[str, tuple[Channel, Callable[[UserMessage], Awaitable]]] = {}
        self.senders: dict[str, Sender] = {}
        self.app: Any = None
        self._inbox = _Lane(
            "inbox",
            min(max_concurrent, TURNS_AT_ONCE),
            queue.claim_inbound,
            channels=lambda: list(self.inputs),
            ready=lambda: bool(self.inputs) and self._agent_ready(),
            begin=lambda row: self._start(self._inbox, row.id, self._process(row)),
        )
        self._outbox = _Lane(
            "outbox",
            max_concurrent,
            queue.claim_outbound,
            channels=lambda: list(self.senders),
            ready=lambda: bool(self.senders),
            begin=lambda row: self._send_in_order([row]),
        )
        # The replies this worker is sending, by (person, channel), while they take more.
        self._replies: dict[tuple[str, str], _Replies] = {}
        self._sending: set[_Replies] = set()
        self._loops: list[asyncio.Task] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.outages = Outages(logger)

    # ------------------------------------------------------------ lifecycle

    def register(
        self, channel: Channel, on_new_message: Callable[[UserMessage], Awaitable]
    ) -> None:
        self.inputs[channel.name()] = (channel, on_new_message)
        self.senders[channel.name()] = channel.sender()

    @property
    def running(self) -> bool:
        return bool(self._loops)

    async def start(self, app: Any = None) -> None:
        """Start delivering (idempotent); pending work left by a previous run resumes."""
        if self.running:
            return
        self.app = app
        self._stopping = False
        self._loop = asyncio.get_running_loop()
        # Events must belong to the running loop.
        self._inbox.wake = asyncio.Event()
        self._outbox.wake = asyncio.Event()
        self._loops = [
            # In the background: Sanic serves no request until its start listeners return.
            asyncio.create_task(self._start_senders(), name="bousla-senders"),
            asyncio.create_task(self._drain(self._inbox), name="bousla-inbox"),
            asyncio.create_task(self._drain(self._outbox), name="bousla-outbox"),
            asyncio.create_task(self._lease_loop(), name="bousla-leases"),
        ]
        logger.info("Delivery worker started for %s", ", ".join(sorted(self.inputs)))

    async def _start_senders(self) -> None:
        for sender in self.senders.values():
            try:
                await sender.start()
            except Exception:
                logger.exception("Could not start the %s sender", sender.channel)

    async def stop(self) -> None:
        if not self.running:
            return
        # A flag as well as cancel(): Python 3.10's wait_for can swallow a cancellation.
        self._stopping = True
        self._inbox.wake.set()
        self._outbox.wake.set()
        for task in self._loops:
            task.cancel()
        busy = list(self._inbox.busy.values()) + list(self._outbox.busy.values())
        if busy:  # let work in flight finish briefly; leases cover the rest
            await asyncio.wait(busy, timeout=5)
        for task in self._loops + busy:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                asyncio.gather(*self._loops, *busy, return_exceptions=True), timeout=5
            )
        self._loops = []
        for sender in self.senders.values():
            with contextlib.suppress(Exception):
                await sender.close()

    def wake_inbox(self) -> None:
        self._threadsafe(self._inbox.wake.set)

    def wake_outbox(self) -> None:
        self._threadsafe(self._outbox.wake.set)

    # ------------------------------------------------------------ work started at once
    # A message stored by a webhook of this process, or a reply queued by a turn of this
    # process, is claimed in the transaction that stores it when its person has nothing
    # older unfinished (`queue.record_inbound`, `queue.enqueue_and_claim`): the worker
    # starts on it at once, without a claim of its own.

    def claim_for(self, outbox: bool = False) -> float | None:
        """The lease to claim a new row with, if this worker can start on it now; None
        when the row must wait in its queue (worker stopped, Rasa not ready, lane full;
        for a message, this replica already busy with `TURNS_AT_ONCE` turns)."""
        lane = self._outbox if outbox else self._inbox
        if not self.running or self._stopping or self._loop is None:
            return None
        try:
            if asyncio.get_running_loop() is not self._loop:
                return None
        except RuntimeError:
            return None
        if len(lane.busy) >= lane.limit or not lane.ready():
            return None
        return self.lease_seconds

    def inbox_recorded(self, inbound_id: int | None) -> None:
        """After a webhook stored a message: start on it if it was claimed with
        `claim_for()`, else wake the inbox (nothing for a message seen before)."""
        if isinstance(inbound_id, queue.ClaimedInbound):
            self._inbox.begin(inbound_id.snapshot)
        elif inbound_id is not None and inbound_id is not spool.SPOOLED:
            self.wake_inbox()

    def replies_under_way(self, person_id: str, channel: str) -> _Replies | None:
        """The person's replies this worker is sending and may still add to: a new reply
        claimed behind their rows (`queue.enqueue_and_claim(behind=...)`) joins them."""
        replies = self._replies.get((person_id, channel))
        return replies if replies is not None and replies.taking else None

    def outbox_queued(
        self, claimed: list[queue.OutboundSnapshot], behind: _Replies | None = None
    ) -> None:
        """After a reply was queued: send it at once if it was claimed (after the replies
        `behind` it, if they are still being sent), else wake the outbox (it waits behind
        its person's earlier messages, or for a free slot)."""
        if not claimed or not self.running:
            self.wake_outbox()
        elif behind is not None and behind.taking:
            behind.rows.extend(claimed)
        elif behind is not None and behind.failed:
            # Claimed behind a send that has failed since: back to the queue, after it.
            self._outbox.backlog = True
            ids = [row.id for row in claimed]
            self._start(self._outbox, ids[0], self._release_unsent(ids))
        else:
            self._send_in_order(claimed)

    def _start(self, lane: _Lane, row_id: int, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        lane.busy[row_id] = task
        task.add_done_callback(lambda _, rid=row_id: self._done(lane, rid))

    def _threadsafe(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback()
        else:
            loop.call_soon_threadsafe(callback)

    # ------------------------------------------------------------ draining a queue

    async def _drain(self, lane: _Lane) -> None:
        """Claim what `lane` has for this worker, handle each row in its own task, and wait
        to be woken (or for the next poll) when nothing is left to claim."""
        while not self._stopping:
            try:
                lane.wake.clear()
                claimed = 0
                free = lane.limit - len(lane.busy)
                lane.backlog = free <= 0
                if free > 0 and lane.ready():
                    rows = await in_session(
                        lane.claim,
                        channels=lane.channels(),
                        limit=free,
                        lease_seconds=self.lease_seconds,
                    )
                    claimed = len(rows)
                    self.outages.up(DATABASE)
                    # The database answers: webhooks kept on disk during its outage go to
                    # the inbox (bot.channels.spool), then are claimed as usual.
                    replayed = lane is self._inbox and spool.has_pending() and await spool.replay()
                    if replayed:
                        lane.wake.set()
                    for row in rows:
                        lane.begin(row)
                if claimed and claimed == free:
                    lane.backlog = True  # there may be more
                    continue
                await self._wait(lane.wake)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self._outage(error):
                    logger.exception("%s loop error; retrying", lane.name.capitalize())
                await asyncio.sleep(self.poll_seconds)

    def _done(self, lane: _Lane, row_id: int) -> None:
        lane.busy.pop(row_id, None)
        if lane.backlog:
            lane.wake.set()

    # ------------------------------------------------------------ inbox

    def _agent_ready(self) -> bool:
        context = getattr(self.app, "ctx", None)
        if context is None or not hasattr(context, "agent"):
            return True  # no Rasa agent in this app (tests give their own handler)
        if context.agent is not None:
            fail_loudly(context.agent)  # tracker errors keep the message in the inbox
        return context.agent is not None and context.agent.is_ready()

    async def _process(self, row: queue.InboundSnapshot) -> None:
        channel, on_new_message = self.inputs[row.channel]
        message_id = f"{row.channel}:{row.provider_message_id}"
        text = row.text
        try:
            if row.tried_before and await self._already_in_tracker(row.person_id, message_id):
                logger.info("Inbox %s was handled before a restart; not again", row.id)
                self.outages.up(DATABASE)
            else:
                prepared = await channel.prepare(row)
                if prepared is not None:
                    text = prepared.text
                    output = channel.output(row.id, self)
                    await on_new_message(
                        UserMessage(
                            prepared.text,
                            output,
                            sender_id=row.person_id,
                            input_channel=row.channel,
                            message_id=message_id,
                            metadata={"inbound_id": row.id, **prepared.metadata},
                        )
                    )
                    self.outages.up()  # a turn went through: every store answered
                    # A distress turn whose action failed (action server down): never lost.
                    await self._follow_through(row, message_id, output)
            following = await self._store_result(
                queue.finish_inbound_and_claim_next, row, lease_seconds=self.lease_seconds
            )
            if following is not None:  # the person wrote again meanwhile
                self._inbox.begin(following)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._inbox.backlog = True
            store = self._outage(error)
            try:
                status = await in_session(
                    queue.retry_inbound_later,
                    row.id,
                    error=repr(error),
                    delay_seconds=STORE_RETRY_SECONDS if store else self._backoff(row.attempts),
                    max_attempts=INBOX_MAX_ATTEMPTS,
                    count_attempt=store is None,
                )
            except Exception as second:
                if not unavailable_store(second):
                    raise
                # The database is down: the row's lease runs out and any replica takes
                # it up again once the database answers.
                status = "left to its lease"
            if not store:
                logger.exception(
                    "Inbox %s (attempt %s) failed; now %s", row.id, row.attempts, status
                )
                await self._after_failure(row, channel, text, given_up=status == "failed")

    async def _follow_through(
        self, row: queue.InboundSnapshot, message_id: str, output: Any
    ) -> None:
        try:
            await safety_net.follow_through(self._agent(), row, message_id, output)
        except Exception:
            logger.exception("Safety net after inbox %s failed", row.id)

    def _agent(self) -> Any:
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    async def _after_failure(
        self, row: queue.InboundSnapshot, channel: Channel, text: str | None, *, given_up: bool
    ) -> None:
        """Danger in a failed message still gets the contacts and an urgent request; a
        message given up is said to the person and shown as an alert (bot.channels.safety_net)."""
        try:
            output = channel.output(row.id, self)
            await safety_net.after_failed_attempt(
                self._agent(), row, text, output, given_up=given_up
            )
        except Exception:
            logger.exception("Safety net for inbox %s failed", row.id)

    async def _store_result(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Record the result of work already done (a turn processed, a message sent),
        waiting for the database while our lease holds: recording it later than that
        would let another replica do the work again."""
        deadline = asyncio.get_running_loop().time() + self.lease_seconds * 0.8
        while True:
            try:
                return await in_session(work, *args, **kwargs)
            except Exception as error:
                store = unavailable_store(error)
                if store is None or asyncio.get_running_loop().time() > deadline:
                    raise
                self.outages.down(store, error)
                await asyncio.sleep(0.5)

    async def _already_in_tracker(self, sender_id: str, message_id: str) -> bool:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return False
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return False
        return any(
            isinstance(event, UserUttered) and event.message_id == message_id
            for event in tracker.events
        )

    # ------------------------------------------------------------ outbox

    def _send_in_order(self, rows: list[queue.OutboundSnapshot]) -> None:
        """Start sending a person's claimed rows, in order, in one task."""
        replies = _Replies((rows[0].person_id, rows[0].channel), deque(rows))
        self._replies[replies.key] = replies
        self._sending.add(replies)
        self._start(self._outbox, rows[0].id, self._deliver(replies))

    async def _deliver(self, replies: _Replies) -> None:
        records: list[asyncio.Task] = []
        try:
            while replies.rows:
                row = replies.rows.popleft()
                replies.current = row.id
                outcome = await self._send(row, replies)
                if outcome is None:
                    return
                if replies.rows:  # the next one is already ours: it goes now
                    records.append(
                        asyncio.create_task(self._store_result(_mark_sent_and_after, row, outcome))
                    )
                    continue
                replies.taking = False  # a reply queued from now on starts on its own
                # The rows before are recorded first: the claim below sees them finished.
                await asyncio.gather(*records, return_exceptions=True)
                following = await self._store_result(
                    _mark_sent_and_claim_next, row, outcome, lease_seconds=self.lease_seconds
                )
                if following is not None:  # the person's next message, in order
                    self._send_in_order([following])
        finally:
            replies.taking = False
            if self._replies.get(replies.key) is replies:
                del self._replies[replies.key]
            if records:
                await asyncio.gather(*records, return_exceptions=True)
            self._sending.discard(replies)

    async def _send(self, row: queue.OutboundSnapshot, replies: _Replies) -> SendOutcome | None:
        """Send one row; on failure record it (retry later or failed for good), put the rows
        held behind it back in the queue, and return None."""
        sender = self.senders[row.channel]
        try:
            return await sender.send(row)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            replies.taking, replies.failed = False, True
            unsent = [held.id for held in replies.rows]
            replies.rows.clear()
            replies.current = None
            self._outbox.backlog = True  # the person's next message, if any
            await self._send_failed(row, error)
            await self._release_unsent(unsent)
            return None

    async def _send_failed(self, row: queue.OutboundSnapshot, error: Exception) -> None:
        if isinstance(error, PermanentSendError):
            logger.warning("Outbox %s refused by %s: %s", row.id, row.channel, error)
            await in_session(queue.mark_failed, row.id, error=str(error))
            await in_session(_after_delivery, row)
            return
        retry_after = error.retry_after if isinstance(error, TransientSendError) else None
        if not isinstance(error, TransientSendError):
            logger.error("Outbox %s: unexpected error from %s", row.id, row.channel, exc_info=error)
        delay = max(retry_after or 0.0, self._backoff(row.attempts))
        age = (utcnow() - row.created_at).total_seconds()
        give_up = age + delay > self.give_up_seconds
        status = await in_session(
            queue.retry_outbound_later,
            row.id,
            error=str(error) or repr(error),
            delay_seconds=delay,
            give_up=give_up,
        )
        logger.warning(
            "Outbox %s attempt %s to %s failed (%s); %s",
            row.id,
            row.attempts,
            row.channel,
            error,
            "given up" if status == "failed" else f"retry in {delay:.1f} s",
        )
        if status == "pending":
            self._wake_later(delay)
        else:
            await in_session(_after_delivery, row)

    async def _release_unsent(self, message_ids: list[int]) -> None:
        """Rows held behind a failed send go back to the queue (if the database does not
        answer, their lease runs out and they are claimed again, in order, all the same)."""
        if not message_ids:
            return
        try:
            await in_session(queue.release_unsent, message_ids)
        except Exception as error:
            if not self._outage(error):
                logger.exception("Could not put outbox rows %s back in the queue", message_ids)
        self.wake_outbox()

    def _backoff(self, attempts: int) -> float:
        """Exponential backoff with ±20 % jitter: base, 2×base, 4×base... up to the max."""
        delay = min(self.retry_max_seconds, self.retry_base_seconds * 2 ** max(0, attempts - 1))
        return delay * random.uniform(0.8, 1.2)

    def _wake_later(self, delay: float) -> None:
        assert self._loop is not None
        self._loop.call_later(delay, self._outbox.wake.set)

    # ------------------------------------------------------------ shared

    async def _wait(self, event: asyncio.Event) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=self.poll_seconds)

    async def _lease_loop(self) -> None:
        """Renew the leases of work in flight, so that slow work is not taken over."""
        while not self._stopping:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                outbound_ids = [i for replies in self._sending for i in replies.row_ids()]
                if self._inbox.busy or outbound_ids:
                    await in_session(
                        queue.renew_leases,
                        inbound_ids=list(self._inbox.busy),
                        outbound_ids=outbound_ids,
                        lease_seconds=self.lease_seconds,
                    )
            except Exception as error:
                if not self._outage(error):
                    logger.exception("Could not renew leases")

    def _outage(self, error: BaseException) -> str | None:
        """The store `error` says is down (noted as an outage, logged once), else None."""
        store = unavailable_store(error)
        if store:
            self.outages.down(store, error)
        return store


def _after_delivery(session: Any, row: queue.OutboundSnapshot) -> None:
    """An erased person's last message has left (or never will): the rest goes now."""
    after_delivery(session, outbound_id=row.id, person_id=row.person_id, channel=row.channel)


def _mark_sent_and_after(session: Any, row: queue.OutboundSnapshot, outcome: SendOutcome) -> None:
    """The row sent (and, for an erased person's last message, the rest erased)."""
    queue.mark_sent(
        session,
        row.id,
        provider_message_id=outcome.provider_message_id,
        template=outcome.template,
        commit=False,
    )
    _after_delivery(session, row)


def _mark_sent_and_claim_next(
    session: Any, row: queue.OutboundSnapshot, outcome: SendOutcome, *, lease_seconds: float
) -> queue.OutboundSnapshot | None:
    """The row sent, and the person's next due message claimed, in one transaction."""
    _mark_sent_and_after(session, row, outcome)
    following = queue.claim_outbound(
        session,
        channels=[row.channel],
        limit=1,
        lease_seconds=lease_seconds,
        person_id=row.person_id,
    )
    return following[0] if following else None


_worker: ChannelWorker | None = None


def get_worker() -> ChannelWorker:
    """The worker of this process (one per Rasa server)."""
    global _worker
    if _worker is None:
        _worker = ChannelWorker()
    return _worker


def reset_worker() -> None:
    """Forget the worker (tests start several servers in one process)."""
    global _worker
    _worker = None
