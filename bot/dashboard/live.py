"""Live updates: one poller per dashboard process watches the database and fans changes
out to every open page as server-sent events.

Inbox rows are written by the Rasa process and requests by the action server, so the
database is the one place every process meets; polling it (a few indexed queries every
`poll_seconds`, whatever the number of open pages) works the same on SQLite and
PostgreSQL and across dashboard replicas. Events name what changed; pages then fetch
server-rendered fragments.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.storage.db import session_scope
from bot.storage.models import Handoff, HandoffNote, InboundMessage, OutboundMessage

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
UNSETTLED = ("pending", "sending")


@dataclass
class _Snapshot:
    inbound_id: int = 0
    outbound_id: int = 0
    note_id: int = 0
    handoffs: dict[int, tuple] = field(default_factory=dict)  # active ones: id -> state
    unsettled: dict[int, tuple[str, str]] = field(
        default_factory=dict
    )  # outbound id -> (person, status)


def _max_id(session, column) -> int:
    return session.execute(select(func.max(column))).scalar() or 0


def take_snapshot(session) -> _Snapshot:
    return _Snapshot(
        inbound_id=_max_id(session, InboundMessage.id),
        outbound_id=_max_id(session, OutboundMessage.id),
        note_id=_max_id(session, HandoffNote.id),
        handoffs=_active_handoffs(session),
        unsettled=_unsettled(session),
    )


def _active_handoffs(session) -> dict[int, tuple]:
    rows = session.execute(
        select(
            Handoff.id, Handoff.person_id, Handoff.status, Handoff.priority, Handoff.claimed_by
        ).where(Handoff.status.in_(("open", "claimed")))
    )
    return {row.id: (row.person_id, row.status, row.priority, row.claimed_by) for row in rows}


def _unsettled(session) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(OutboundMessage.id, OutboundMessage.person_id, OutboundMessage.status).where(
            OutboundMessage.status.in_(UNSETTLED)
        )
    )
    return {row.id: (row.person_id, row.status) for row in rows}


def changes(session, before: _Snapshot) -> tuple[_Snapshot, list[dict]]:
    """The new snapshot and the events between `before` and now."""
    events: list[dict] = []
    people: set[str] = set()
    new_inbound = session.execute(
        select(InboundMessage.id, InboundMessage.person_id)
        .where(InboundMessage.id > before.inbound_id)
        .order_by(InboundMessage.id)
    ).all()
    new_outbound = session.execute(
        select(OutboundMessage.id, OutboundMessage.person_id)
        .where(OutboundMessage.id > before.outbound_id)
        .order_by(OutboundMessage.id)
    ).all()
    people.update(row.person_id for row in new_inbound)
    people.update(row.person_id for row in new_outbound)
    unsettled = _unsettled(session)
    for message_id, (person_id, status) in before.unsettled.items():
        if unsettled.get(message_id, (person_id, None))[1] != status:
            people.add(person_id)  # delivered, failed...
    new_notes = session.execute(
        select(HandoffNote.id, HandoffNote.handoff_id).where(HandoffNote.id > before.note_id)
    ).all()
    handoffs = _active_handoffs(session)
    changed = {
        handoff_id
        for handoff_id in set(handoffs) | set(before.handoffs)
        if handoffs.get(handoff_id) != before.handoffs.get(handoff_id)
    }
    for person_id in sorted(people):
        events.append({"type": "message", "person_id": person_id})
    for handoff_id in sorted({row.handoff_id for row in new_notes}):
        events.append({"type": "note", "handoff_id": handoff_id})
    if changed:
        events.append(
            {
                "type": "queue",
                "handoff_ids": sorted(changed),
                "new": sorted(set(handoffs) - set(before.handoffs)),
                "open": sum(1 for state in handoffs.values() if state[1] == "open"),
            }
        )
    after = _Snapshot(
        inbound_id=max([before.inbound_id, *(row.id for row in new_inbound)]),
        outbound_id=max([before.outbound_id, *(row.id for row in new_outbound)]),
        note_id=max([before.note_id, *(row.id for row in new_notes)]),
        handoffs=handoffs,
        unsettled=unsettled,
    )
    return after, events


class ChangeFeed:
    """Polls while at least one page listens; each listener gets every event."""

    def __init__(self, poll_seconds: float = 0.5) -> None:
        self.poll_seconds = poll_seconds
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None

    async def _poll(self) -> None:
        snapshot = await asyncio.to_thread(self._read_snapshot)
        while self._listeners:
            await asyncio.sleep(self.poll_seconds)
            try:
                snapshot, events = await asyncio.to_thread(self._read_changes, snapshot)
            except Exception:  # a database hiccup must not end live updates
                logger.exception("Live updates: polling failed; retrying")
                continue
            for event in events:
                for queue in list(self._listeners):
                    queue.put_nowait(event)

    @staticmethod
    def _read_snapshot() -> _Snapshot:
        with session_scope() as session:
            return take_snapshot(session)

    @staticmethod
    def _read_changes(snapshot: _Snapshot) -> tuple[_Snapshot, list[dict]]:
        with session_scope() as session:
            return changes(session, snapshot)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[asyncio.Queue]:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="bousla-live-feed")
        try:
            yield queue
        finally:
            self._listeners.discard(queue)

    async def stop(self) -> None:
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def sse(event: dict) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
