"""Slow start-ups begun as soon as the session starts, so that they overlap the unit tests.

`make test` must stay well under 20 minutes on 2 cores. pytest runs the tests one at a
time, on one core; starting the real stack (Rasa loading the model: 40-70 s) or running
`rasa test core` happens in other processes and mostly waits for the other core. So:

- a module that needs such a thing marks itself `pytest.mark.background("name", ...)`, and
  the job `name` is a function registered with `@job("name")` (tests/stack_support.py, or the
  module itself);
- once collection is over (conftest.py), the jobs of the selected modules start one after
  the other in one thread (WORKERS), in the order the tests will need them, and the marked
  modules run last, after the unit tests;
- the module's fixture calls `result("name")`, which waits for the job (or raises its
  error), and uses what it returns exactly as it used what it started itself before.

Jobs start the same processes with the same settings as the tests did; only the moment
changes. They run beside the unit tests, which monkeypatch this process: a job only starts
other processes and waits for them (playing the conversation scenarios in the background
failed when tests/test_conversation_harness.py replaced a piece of the harness meanwhile),
and never reads this process's environment or settings: `Context.environ` is the
environment as it was at the session's start. Everything a job started is stopped at the
end of the session, used or not.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings

MARKER = "background"
# Jobs run this many at a time, in order; a test waits at most this long for its job.
# Two at a time made the whole run slower on 2 cores (15.6 minutes against 13.1): the
# model loaded in the tests' own process then competed with two Rasa servers starting.
WORKERS = 1
WAIT_SECONDS = 1800


@dataclass
class Context:
    """What a job may use: the selected tests, a temporary directory, the environment and
    the settings at the session's start, and `cleanup` to have something stopped at the
    session's end."""

    items: list[pytest.Item]
    environ: dict[str, str]
    settings: Settings
    mktemp: Callable[[str], Path]
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: bool = False

    def cleanup(self, stop: Callable[[], None]) -> None:
        """Have `stop` called at the session's end (call it before starting the thing)."""
        with self.lock:
            if self.closing:
                raise RuntimeError("the test session is over: nothing more is started")
            self.cleanups.append(stop)

    def stop_all(self) -> None:
        with self.lock:
            self.closing = True
            cleanups, self.cleanups = self.cleanups, []
        for stop in reversed(cleanups):  # last started, first stopped
            with contextlib.suppress(Exception):
                stop()


_JOBS: dict[str, Callable[[Context], Any]] = {}
_futures: dict[str, Future] = {}
_executor: ThreadPoolExecutor | None = None
_context: Context | None = None
# When each job began and ended (seconds since the jobs started), for the session's summary.
_times: dict[str, list[float]] = {}
_started_at = 0.0


def job(name: str) -> Callable[[Callable[[Context], Any]], Callable[[Context], Any]]:
    """Register `function(context)` as the background job `name`."""

    def register(function: Callable[[Context], Any]) -> Callable[[Context], Any]:
        assert name not in _JOBS or _JOBS[name] is function, f"two jobs named {name!r}"
        _JOBS[name] = function
        return function

    return register


def wanted(items: list[pytest.Item]) -> list[str]:
    """The jobs the selected tests need, in the order they will need them."""
    names: list[str] = []
    for item in items:
        for mark in item.iter_markers(MARKER):
            names += [name for name in mark.args if name not in names]
    return names


def run_last(items: list[pytest.Item], middle: Callable[[pytest.Item], bool]) -> None:
    """Move the tests that use background jobs after all the others, and the tests for
    which `middle` is true just before them (in place, stable)."""
    items.sort(key=lambda item: 2 if item.get_closest_marker(MARKER) else int(middle(item)))


def _timed(name: str, function: Callable[[Context], Any]) -> Callable[[Context], Any]:
    def run(context: Context) -> Any:
        _times[name] = [time.monotonic() - _started_at]
        try:
            return function(context)
        finally:
            _times[name].append(time.monotonic() - _started_at)

    return run


def summary() -> list[str]:
    """A line per job: when it began and ended, from the start of the jobs."""
    return [f"{name}: {'-'.join(f'{t:.0f}' for t in times)} s" for name, times in _times.items()]


def start(
    items: list[pytest.Item], mktemp: Callable[[str], Path], first: list[str] | None = None
) -> None:
    """Start the jobs the selected tests need, in order, WORKERS at a time (the jobs
    `first` before them)."""
    global _executor, _context, _started_at
    names = list(first or [])
    names += [name for name in wanted(items) if name not in names]
    if not names:
        return
    unknown = [name for name in names if name not in _JOBS]
    assert not unknown, f"no background job registered as {unknown}"
    _context = Context(
        items=list(items), environ=dict(os.environ), settings=Settings(), mktemp=mktemp
    )
    _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tests-background")
    _times.clear()
    _started_at = time.monotonic()
    for name in names:
        _futures[name] = _executor.submit(_timed(name, _JOBS[name]), _context)


def result(name: str) -> Any:
    """What the job `name` returned (waits for it); its exception if it failed."""
    if name not in _futures:
        raise RuntimeError(
            f"background job {name!r} was not started: mark the module "
            f"pytest.mark.{MARKER}({name!r})"
        )
    return _futures[name].result(timeout=WAIT_SECONDS)


def finish() -> None:
    """At the session's end: drop the jobs not begun, stop everything the jobs started
    (a job still running then fails at once, its stack gone), and wait for the thread."""
    global _executor, _context
    if _executor is None or _context is None:
        return
    _executor.shutdown(wait=False, cancel_futures=True)
    _context.stop_all()
    _executor.shutdown(wait=True)
    _context.stop_all()
    _futures.clear()
    _executor = _context = None
