"""Small helpers shared by the benchmarks: percentiles and a uniform printout."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence


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
