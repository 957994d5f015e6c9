"""Webhooks that arrive while the database is down: kept on local disk, then replayed.

Twilio does not resend a webhook refused with a 5xx (unless its URL asks for retries), so a
message that cannot reach the inbox is appended to a local spool file (one JSON line, then
`fsync`) and acknowledged. When the database answers again, the delivery worker replays the
spool into the inbox (`replay`): the inbox is unique per provider message id, so a line
replayed twice, or a message the provider also resent, is stored once.

Files live in `BOUSLA_VAR_DIR/spool/`, one per process (`inbound-<host>-<pid>.jsonl`, mode
600: they hold phone numbers and messages until replayed). A process replays its own file
and those of processes of this host that are no longer running; claiming a file renames it,
so two replicas never replay the same file at once. Nothing else reads them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.channels.outages import DATABASE, unavailable_store
from bot.settings import get_settings
from bot.storage.db import in_session, in_webhook_session

logger = logging.getLogger(__name__)


class Spooled(int):
    """What `record` returns for a message kept in the spool (not yet in the inbox)."""


SPOOLED = Spooled(-1)
_replayers: dict[str, Callable[..., int | None]] = {}
_lock = threading.Lock()


def register(kind: str, work: Callable[..., int | None]) -> None:
    """`work(session, **arguments)` stores one webhook's message (and is idempotent)."""
    _replayers[kind] = work


def spool_dir() -> Path:
    return get_settings().var_dir / "spool"


def _own_name() -> str:
    return f"inbound-{socket.gethostname()}-{os.getpid()}.jsonl"


def append(kind: str, arguments: dict[str, Any]) -> None:
    """One line, written in one call and flushed to disk before the webhook is answered."""
    line = json.dumps({"kind": kind, "args": arguments}, ensure_ascii=False) + "\n"
    data = line.encode("utf-8")
    with _lock:
        directory = spool_dir()
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / _own_name()
        created = not path.exists()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:  # the new file's name must survive a power cut too
            directory_descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(directory_descriptor)
            finally:
                os.close(directory_descriptor)


async def record(kind: str, **arguments: Any) -> int | None:
    """Store a webhook's message in the inbox; when the database is unavailable, in the
    spool instead (returns `SPOOLED`). Other errors propagate.

    `claim_for` (start on the message at once, `bot.channels.queue.record_inbound`) is
    not kept in the spool: a replayed message waits in the inbox to be claimed."""
    try:
        return await in_webhook_session(_replayers[kind], **arguments)
    except Exception as error:
        if unavailable_store(error) != DATABASE:
            raise
        kept = {name: value for name, value in arguments.items() if name != "claim_for"}
        # Not the database's thread: it may be stuck on the outage.
        await asyncio.get_running_loop().run_in_executor(None, append, kind, kept)
        from bot.channels.worker import get_worker

        get_worker().outages.down(DATABASE, error)
        logger.warning(
            "The database is unavailable: a %s message was kept in the local spool "
            "(replayed into the inbox when the database answers again)",
            arguments.get("channel") or kind,
        )
        return SPOOLED


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(path: Path) -> tuple[str, int] | None:
    """(host, pid) of the process that wrote (or claimed) a spool file."""
    stem = path.name.split(".jsonl")[0]
    if ".replay-" in path.name:
        host = stem.removeprefix("inbound-").rsplit("-", 1)[0]
        return host, int(path.name.rsplit(".replay-", 1)[1])
    host, _, pid = stem.removeprefix("inbound-").rpartition("-")
    return (host, int(pid)) if pid.isdigit() else None


def pending() -> list[Path]:
    """Spool files this process may replay: its own, and those of stopped processes."""
    directory = spool_dir()
    if not directory.is_dir():
        return []
    here, me = socket.gethostname(), os.getpid()
    found = []
    for path in sorted(directory.glob("inbound-*.jsonl*")):
        owner = _owner(path)
        if owner is None:
            continue
        host, pid = owner
        if host == here and (pid == me or not _alive(pid)):
            found.append(path)
    return found


def _claim(path: Path) -> Path | None:
    if ".replay-" in path.name:
        if _owner(path) == (socket.gethostname(), os.getpid()):
            return path
        target = path.with_name(path.name.rsplit(".replay-", 1)[0] + f".replay-{os.getpid()}")
    else:
        target = path.with_name(f"{path.name}.replay-{os.getpid()}")
    with _lock:  # no append of ours goes to a file being claimed
        try:
            path.rename(target)
        except FileNotFoundError:  # another replica claimed it first
            return None
    return target


def _lines(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:  # a line cut by a crash mid-write was never acknowledged
            continue
        if isinstance(entry, dict) and entry.get("kind") in _replayers:
            entries.append(entry)
    return entries


async def replay() -> int:
    """Put what the spool holds into the inbox; how many messages were new there. Raises
    (and keeps the file for the next try) while the database is still unavailable."""
    stored = 0
    for path in pending():
        claimed = await asyncio.get_running_loop().run_in_executor(None, _claim, path)
        if claimed is None:
            continue
        entries = await asyncio.get_running_loop().run_in_executor(None, _lines, claimed)
        for entry in entries:
            inbound_id = await in_session(_replayers[entry["kind"]], **entry["args"])
            stored += inbound_id is not None
        claimed.unlink()
        logger.info("Replayed %s spooled message(s) into the inbox (%s new)", len(entries), stored)
    return stored


def has_pending() -> bool:
    return bool(pending())


def _record_inbound(session: Any, **arguments: Any) -> int | None:
    from bot.channels import queue

    return queue.record_inbound(session, **arguments)


register("inbound", _record_inbound)
