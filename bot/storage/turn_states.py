"""The state of a conversation at the end of each of its last turns, beside Rasa's events.

Rasa rebuilds a conversation from all the events of its session at every turn, copies it
before each action and sends all of it to the action server: a turn late in a long
conversation costs several times an early one. Bousla's tracker store
(`bot.storage.rasa_stores.TrackerStore`) keeps, for each of the last turns, what the
conversation was at its end (slots, active form, paused or not, last event), and gives
Rasa the last few turns on top of that state instead of the whole session.

The rows hold what the events hold (slot values), in the tracker store's database; an
erasure deletes them with the events, and retention deletes those whose events are gone.
This module does not import Rasa (the privacy commands use it).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, delete, exists, select
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()
TURN_STATES = Table(
    "bousla_turn_states",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    # id in Rasa's `events` table of the turn's last event
    Column("last_event_id", Integer, nullable=False),
    # JSON: slots, active_loop, rejected, paused, last_event (bot.storage.rasa_stores.state_of)
    Column("state", Text, nullable=False),
)


def create_table(engine: Engine) -> None:
    metadata.create_all(engine, checkfirst=True)


def has_table(connection: Connection) -> bool:
    from sqlalchemy import inspect

    return inspect(connection).has_table(TURN_STATES.name)


def delete_for(connection: Connection, sender_id: str) -> int:
    """Every turn state of `sender_id` (an erasure)."""
    if not has_table(connection):
        return 0
    result = connection.execute(delete(TURN_STATES).where(TURN_STATES.c.sender_id == sender_id))
    return result.rowcount or 0


def delete_orphans(connection: Connection, events: Table) -> int:
    """Turn states of conversations whose events are gone (retention)."""
    if not has_table(connection):
        return 0
    has_events = exists(select(events.c.id).where(events.c.sender_id == TURN_STATES.c.sender_id))
    result = connection.execute(delete(TURN_STATES).where(~has_events))
    return result.rowcount or 0
