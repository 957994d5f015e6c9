"""Database access from actions without blocking the action server's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.storage.db import session_scope

logger = logging.getLogger(__name__)
T = TypeVar("T")


async def in_session(work: Callable[[Session], T]) -> T:
    """Run `work(session)` in a worker thread inside a committed session."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    return await asyncio.to_thread(run)


def channel_of(tracker) -> str:
    """The input channel of the conversation (`rest` when unknown)."""
    return tracker.get_latest_input_channel() or "rest"
