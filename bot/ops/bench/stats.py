"""Small helpers shared by the benchmarks: percentiles and a uniform printout."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100); 0.0 for an empty sequence."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latency_ms(seconds: Sequence[float], digits: int = 2) -> dict[str, float]:
    """p50, p95 and mean in milliseconds of durations in seconds."""
    return {
        "p50_ms": round(percentile(seconds, 50) * 1000, digits),
        "p95_ms": round(percentile(seconds, 95) * 1000, digits),
        "mean_ms": round(statistics.fmean(seconds) * 1000, digits) if seconds else 0.0,
    }


def summarize(label: str, seconds: Sequence[float]) -> dict:
    """p50/p95/mean in milliseconds for a list of durations in seconds."""
    return {"label": label, "n": len(seconds), **latency_ms(seconds)}


def print_rows(rows: Sequence[dict], as_json: bool = False) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        return
    columns = list(rows[0].keys())
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


# ---------------------------------------------------------------- CPU time of a process tree

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _process_kind(command: str) -> str:
    """A short name for a process of a Bousla stack, from its command line."""
    if "rasa_sdk" in command:
        return "action server"
    if "bot.ops.rasa_server" in command:
        return "rasa server"
    if "bot.dashboard.app" in command:
        return "dashboard"
    for kind in ("postgres", "nginx", "redis"):
        if kind in command:
            return kind
    return "benchmark and others"


def cpu_seconds_by_kind(*others: int) -> dict[str, float]:
    """CPU time (user + system) used so far by this process and every process below it,
    and by the trees of `others` (a daemon such as PostgreSQL's postmaster), summed by
    kind (rasa server, action server, postgres...).

    A figure that a busy machine slows down but does not inflate: work done per turn,
    where turns per second also count what the other programs of the machine took."""
    root = os.getpid()
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        parent, user, system = int(fields[1]), int(fields[11]), int(fields[12])
        pid = int(entry.name)
        children.setdefault(parent, []).append(pid)
        stats[pid] = ((user + system) / _TICKS_PER_SECOND, command or raw[: raw.rindex(")")])
    totals: dict[str, float] = {}
    pending = [root, *others]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        if pid in stats:
            seconds, command = stats[pid]
            kind = "benchmark and others" if pid == root else _process_kind(command)
            totals[kind] = totals.get(kind, 0.0) + seconds
    return totals


def cpu_ms_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict:
    """Milliseconds of CPU per turn, by kind and in all, between two readings."""
    if not turns:
        return {}
    used = {kind: after.get(kind, 0.0) - before.get(kind, 0.0) for kind in after}
    result = {kind: round(seconds * 1000 / turns, 1) for kind, seconds in sorted(used.items())}
    result["all"] = round(sum(used.values()) * 1000 / turns, 1)
    return result
