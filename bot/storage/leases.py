"""Work queues kept in database tables, taken with a lease: the inbox and the outbox
(`bot.channels.queue`) and the follow-ups (`bot.followup.store`) share these mechanics.

- claim: the candidates are locked with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has
  a single writer anyway), then each one is claimed by a conditional UPDATE that only one
  claimer can win (rowcount 1). A claim sets `lease_until` and counts an attempt.
- renew: work that takes long keeps its rows (their lease moves on).
- retry: after a failure the row is held until a delay has passed, then it is claimable
  again; after too many attempts it is given up.
- give up / release: the row leaves the queue with its final status.

A worker that dies leaves its rows to any other once their lease runs out. The tables need
`id`, `attempts` and `lease_until`, and `status` and `error` for the last three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.models import utcnow

MAX_ERROR_LENGTH = 2000


def claim(
    session: Session,
    model: Any,
    *,
    candidates: Select,
    claimable: ColumnElement,
    lease_seconds: float,
    now: datetime,
    **values: Any,
) -> list[int]:
    """Claim the rows `candidates` selects (their ids) that are still `claimable`; the ids
    won, in the candidates' order. `values` are set on the rows won (e.g. a status)."""
    ids = session.execute(candidates.with_for_update(skip_locked=True)).scalars().all()
    won = []
    for row_id in ids:
        result = session.execute(
            update(model)
            .where(model.id == row_id, claimable)
            .values(
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=model.attempts + 1,
                **values,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            won.append(row_id)
    return won


def rows(session: Session, model: Any, ids: Sequence[int]) -> list[Any]:
    """The rows of `ids`, in id order."""
    if not ids:
        return []
    return list(
        session.execute(select(model).where(model.id.in_(ids)).order_by(model.id)).scalars()
    )


def renew(
    session: Session, model: Any, ids: Iterable[int], *, status: str, lease_seconds: float
) -> None:
    """Move the lease of rows still being worked on (in `status`) `lease_seconds` ahead."""
    ids = list(ids)
    if not ids:
        return
    session.execute(
        update(model)
        .where(model.id.in_(ids), model.status == status)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )


def retry_or_give_up(
    row: Any,
    *,
    error: str | None,
    max_attempts: int,
    delay_seconds: Callable[[int], float],
    count_attempt: bool = True,
    status: str | None = None,
) -> str:
    """After a failed attempt on a claimed row: hold it for `delay_seconds(attempts)`
    (claimable again after that, with `status` if given), or give up ("failed") after
    `max_attempts`. An attempt that was not the row's fault (`count_attempt=False`, e.g. a
    store was down) is taken back and never makes it give up. Returns the new status."""
    row.error = error[:MAX_ERROR_LENGTH] if error else None
    if not count_attempt:
        row.attempts = max(0, row.attempts - 1)
    if count_attempt and row.attempts >= max_attempts:
        row.status = "failed"
        row.lease_until = None
    else:
        if status is not None:
            row.status = status
        row.lease_until = utcnow() + timedelta(seconds=delay_seconds(row.attempts))
    return row.status


def release(
    session: Session,
    model: Any,
    row_id: int,
    *,
    where: Sequence[ColumnElement] = (),
    **values: Any,
) -> int:
    """The row leaves the queue (its lease dropped) with `values` (its final status...),
    if it still matches `where`; returns how many rows changed."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, *where)
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def give_up(
    session: Session,
    model: Any,
    row_id: int,
    *,
    error: str,
    status: str = "failed",
    where: Sequence[ColumnElement] = (),
) -> int:
    """Never try this row again: final `status`, with the reason in `error`."""
    return release(
        session, model, row_id, where=where, status=status, error=error[:MAX_ERROR_LENGTH]
    )
