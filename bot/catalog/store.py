"""The catalogue in service, reloaded when staff edit a file (no restart needed).

`CatalogStore.catalog` first compares the directory's file names, sizes and modification
times with those of the last load (one `scandir`, no file read) and reloads only when
something changed, or when the day changed (freshness warnings depend on the date).
A broken edit is refused as a whole: the last good catalogue stays in service and the
errors are recorded in `status()` for the dashboard.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from bot.catalog.issues import CatalogIssue
from bot.catalog.loader import Catalog, CatalogLoad, load_catalog

logger = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]  # (file name, size, mtime in ns) per file


@dataclass(frozen=True)
class CatalogStatus:
    """What the dashboard shows programme staff about the catalogue."""

    directory: str
    loaded_at: datetime | None  # when the catalogue in service was read
    checked_at: datetime | None  # last time the files were read (successfully or not)
    program_count: int
    errors: tuple[CatalogIssue, ...] = ()
    warnings: tuple[CatalogIssue, ...] = ()
    # True when the files on disk have errors and an older, valid catalogue is served.
    serving_previous: bool = False
    program_ids: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {
            "directory": self.directory,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "program_count": self.program_count,
            "program_ids": list(self.program_ids),
            "ok": self.ok,
            "serving_previous": self.serving_previous,
            "errors": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
        }

    def same_state_as(self, other: CatalogStatus | None) -> bool:
        """Equal apart from `checked_at` (used to call `on_status_change` only on changes)."""
        return other is not None and (
            self.loaded_at,
            self.program_count,
            self.errors,
            self.warnings,
            self.serving_previous,
        ) == (
            other.loaded_at,
            other.program_count,
            other.errors,
            other.warnings,
            other.serving_previous,
        )


def directory_fingerprint(directory: Path) -> Fingerprint:
    """Names, sizes and modification times of the `.yml` files: cheap change detection."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return ()
    fingerprint = []
    for entry in entries:
        if not entry.name.endswith((".yml", ".yaml")) or entry.name.startswith("."):
            continue
        try:
            stat = entry.stat()
        except OSError:  # deleted between scandir and stat
            continue
        fingerprint.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(fingerprint))


class CatalogStore:
    """Keeps the catalogue that the action server uses, and reloads it after edits.

    `on_status_change(status)` is called after each load whose outcome differs from the
    previous one (new programmes, new errors, errors fixed...): the place to persist the
    status to the database for the dashboard. Its exceptions are logged, never raised.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        *,
        on_status_change: Callable[[CatalogStatus], None] | None = None,
        today: Callable[[], date] = date.today,
    ) -> None:
        if directory is None:
            from bot.settings import get_settings

            directory = get_settings().catalog_dir
        self.directory = Path(directory)
        self.on_status_change = on_status_change
        self._today = today
        self._lock = threading.Lock()
        self._catalog = Catalog({}, self.directory)
        self._loaded_at: datetime | None = None
        self._seen: tuple[Fingerprint, date] | None = None
        self._status: CatalogStatus | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalogue in service, reloaded first if the files changed."""
        self.refresh()
        return self._catalog

    def status(self) -> CatalogStatus:
        self.refresh()
        assert self._status is not None
        return self._status

    def refresh(self, force: bool = False) -> bool:
        """Reload if the directory changed since the last load; True if a load happened."""
        seen = (directory_fingerprint(self.directory), self._today())
        if not force and seen == self._seen:
            return False
        with self._lock:
            if not force and seen == self._seen:
                return False  # another thread reloaded meanwhile
            self._apply(load_catalog(self.directory, today=seen[1]))
            self._seen = seen
        return True

    def _apply(self, load: CatalogLoad) -> None:
        now = datetime.now(timezone.utc)
        first_load = self._loaded_at is None
        if load.ok or first_load:
            # At start-up, serve the valid programmes even if some files are refused.
            self._catalog = load.catalog
            self._loaded_at = now
        serving_previous = not load.ok and not first_load
        if load.errors:
            logger.warning(
                "Catalogue %s: %d error(s)%s; first: %s",
                self.directory,
                len(load.errors),
                ", previous catalogue kept" if serving_previous else "",
                load.errors[0],
            )
        status = CatalogStatus(
            directory=str(self.directory),
            loaded_at=self._loaded_at,
            checked_at=now,
            program_count=len(self._catalog),
            errors=tuple(load.errors),
            warnings=tuple(load.warnings),
            serving_previous=serving_previous,
            program_ids=tuple(self._catalog.programs),
        )
        changed = not status.same_state_as(self._status)
        self._status = status
        if changed and self.on_status_change is not None:
            try:
                self.on_status_change(status)
            except Exception:  # a dashboard hook must never stop the catalogue
                logger.exception("on_status_change failed")
