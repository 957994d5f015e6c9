"""Rasa's tracker store and lock store, configured from Bousla's settings.

endpoints.yml names these classes so that one setting (`DATABASE_URL`, `REDIS_URL`)
switches every store at once, whether Rasa is started by `bousla run` or by hand.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.privacy.erasure import erase_after_turn, erasure_confirmed, latest_inbound_id
from bot.settings import get_settings
from bot.storage.db import build_engine, check_connection, database_executor, describe_url
from bot.storage.redis_url import RedisUnavailable, check_redis
from bot.storage.turn_states import TURN_STATES, create_table

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Trackers kept for the delivery worker's check after a turn: more than the turns one
# replica runs at once (the worker's `max_concurrent`).
JUST_SAVED_KEPT = 256


class TrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the application's database server.

    SQLite file `var/rasa_tracker.db` by default, the `DATABASE_URL` database otherwise.
    The connection is checked first: Rasa's own store would retry forever in silence.

    A long conversation is read as its last `tracker_window_turns` turns on top of the
    state the conversation had before them (bot/storage/turn_states.py), so that a turn
    costs the same at the 300th message as at the 10th. Rasa's policies look at the last
    few actions, the actions at the last two messages: they see the same conversation.
    """

    def __init__(self, domain: Any = None, event_broker: Any = None, **_: Any) -> None:
        settings = get_settings()
        url = settings.tracker_database_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        check_connection(url)
        logger.info("Tracker store: %s", describe_url(url))
        super().__init__(domain=domain, host=url, event_broker=event_broker)
        # Bousla's engine settings instead of Rasa's: Rasa's keeps dead connections after a
        # PostgreSQL restart (no pre-ping) and fails the next turns with them; on SQLite it
        # opens a connection per read or write in rollback-journal mode (~40 ms a turn
        # here), where Bousla's keeps a pool in WAL mode (bot/storage/db.py).
        self.engine.dispose()
        self.engine = build_engine(url)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.window_turns = settings.tracker_window_turns
        create_table(self.engine)
        # The trackers of the last turns the delivery worker sent, as saved, for its
        # check right after the turn (bot.channels.safety_net): no second read of them.
        self._just_saved: OrderedDict[str, DialogueStateTracker] = OrderedDict()

    def just_saved(self, sender_id: str, message_id: str) -> DialogueStateTracker | None:
        """The tracker saved at the end of the turn of `message_id` (taken: asked once),
        or None if this store did not save that turn last."""
        tracker = self._just_saved.pop(sender_id, None)
        latest = tracker.latest_message if tracker is not None else None
        if latest is None or latest.message_id != message_id:
            return None
        return tracker

    def _keep_for_worker(self, tracker: DialogueStateTracker) -> None:
        latest = tracker.latest_message
        if latest is None or not (latest.metadata or {}).get("inbound_id"):
            return  # not a turn of the delivery worker (REST, the dashboard...)
        self._just_saved[tracker.sender_id] = tracker
        self._just_saved.move_to_end(tracker.sender_id)
        while len(self._just_saved) > JUST_SAVED_KEPT:
            self._just_saved.popitem(last=False)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The conversation's last turns on top of its state before them; the whole
        session (Rasa's own reading) while it is shorter than that."""
        if not self.domain:
            return await super().retrieve(sender_id)
        return await _off_the_event_loop(self._read, sender_id)

    def _read(self, sender_id: str) -> DialogueStateTracker | None:
        with self.session_scope() as session:
            window = self._window(session, sender_id) if self.window_turns else None
            cut, events = window if window else (None, self._session_events(session, sender_id))
        tracker = None
        if events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if tracker is not None:
            tracker.bousla_stored_events = len(tracker.events)
            tracker.bousla_window_cut = cut
        return tracker

    def _session_events(self, session: Session, sender_id: str) -> list[dict]:
        """The events of the conversation's latest session, as Rasa's `retrieve` reads
        them (from the latest `session_started` on, by timestamp), without building an
        ORM object per row: only their JSON is needed."""
        event = self.SQLEvent
        session_start = (
            select(func.max(event.timestamp))
            .where(event.sender_id == sender_id, event.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        rows = session.execute(
            select(event.data)
            .where(
                event.sender_id == sender_id,
                or_(event.timestamp >= session_start, session_start.is_(None)),
            )
            .order_by(event.id)
        ).scalars()
        return [json.loads(data) for data in rows]

    def _window(self, session: Session, sender_id: str) -> tuple[int, list[dict]] | None:
        states = session.execute(
            select(TURN_STATES.c.last_event_id, TURN_STATES.c.state)
            .where(TURN_STATES.c.sender_id == sender_id)
            .order_by(TURN_STATES.c.last_event_id.desc())
            .limit(self.window_turns + 1)
        ).all()
        if len(states) <= self.window_turns:
            return None
        cut, state = states[-1]
        rows = session.execute(
            select(self.SQLEvent.type_name, self.SQLEvent.data)
            .where(self.SQLEvent.sender_id == sender_id, self.SQLEvent.id > cut)
            .order_by(self.SQLEvent.id)
        ).all()
        if any(row.type_name == SessionStarted.type_name for row in rows):
            return None  # the session began within the window: it is as short
        return cut, events_for_state(json.loads(state)) + [json.loads(r.data) for r in rows]

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
        await self.stream_events(tracker)
        await _off_the_event_loop(self._write, tracker)
        self._keep_for_worker(tracker)

    def _write(self, tracker: DialogueStateTracker) -> None:
        """The turn's new events, and the state at its end (the window's reading)."""
        stored = getattr(tracker, "bousla_stored_events", None)
        with self.session_scope() as session:
            if stored is None:  # a tracker this store did not read (a new conversation)
                new_events = list(self._additional_events(session, tracker))
            else:
                new_events = list(itertools.islice(tracker.events, stored, None))
            rows = [self._event_row(tracker.sender_id, event) for event in new_events]
            session.add_all(rows)
            session.flush()
            if rows and self.window_turns:
                session.execute(
                    insert(TURN_STATES).values(
                        sender_id=tracker.sender_id,
                        last_event_id=rows[-1].id,
                        state=json.dumps(state_of(tracker)),
                    )
                )
                cut = getattr(tracker, "bousla_window_cut", None)
                if cut is not None:  # states older than the window are no longer read
                    session.execute(
                        delete(TURN_STATES).where(
                            TURN_STATES.c.sender_id == tracker.sender_id,
                            TURN_STATES.c.last_event_id < cut,
                        )
                    )
            session.commit()
        tracker.bousla_stored_events = len(tracker.events)

    def _event_row(self, sender_id: str, event: Event) -> Any:
        """A row of Rasa's `events` table, as SQLTrackerStore.save writes it."""
        data = event.as_dict()
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=data.get("parse_data", {}).get("intent", {}).get("name"),
            action_name=data.get("name"),
            data=json.dumps(data),
        )


async def _off_the_event_loop(work: Callable[..., T], *args: Any) -> T:
    """Run the tracker store's database work in Bousla's database threads (one for
    SQLite), as Rasa's own store does not: while a turn waits for the database, the
    server goes on with the other conversations and answers webhooks. The conversation
    is locked meanwhile (Rasa's lock store), so nothing else reads or writes it."""
    return await asyncio.get_running_loop().run_in_executor(database_executor(), work, *args)


def state_of(tracker: DialogueStateTracker) -> dict[str, Any]:
    """What the conversation is at the end of a turn, beyond its recent events."""
    loop = tracker.active_loop
    return {
        "slots": {
            name: slot.value
            for name, slot in tracker.slots.items()
            if slot.value != slot.initial_value
        },
        "active_loop": loop.name if loop else None,
        "rejected": bool(loop and loop.rejected),
        "paused": tracker.is_paused(),
        "last_event": tracker.events[-1].as_dict() if tracker.events else None,
    }


def events_for_state(state: dict[str, Any]) -> list[dict[str, Any]]:
    """Events that put a new tracker in `state`: the slots, the active form, a pause,
    then the turn's last event (usually the bot listening)."""
    last = state.get("last_event")
    stamp = {"timestamp": last["timestamp"]} if last else {}
    events: list[dict[str, Any]] = [
        {"event": "slot", "name": name, "value": value, **stamp}
        for name, value in state["slots"].items()
    ]
    if state.get("active_loop"):
        events.append({"event": "active_loop", "name": state["active_loop"], **stamp})
        if state.get("rejected"):
            events.append(
                {"event": "action_execution_rejected", "name": state["active_loop"], **stamp}
            )
    if state.get("paused"):
        events.append({"event": "pause", **stamp})
    if last:
        events.append(last)
    return events


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


def tracker_saved_after_turn(
    store: Any, sender_id: str, message_id: str
) -> DialogueStateTracker | None:
    """The tracker Bousla's store saved at the end of the turn of `message_id`, through
    the wrappers Rasa puts around it (`TrackerStore.just_saved`); None if there is none."""
    while store is not None and not isinstance(store, TrackerStore):
        store = getattr(store, "_tracker_store", None)
    return store.just_saved(sender_id, message_id) if store is not None else None


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
