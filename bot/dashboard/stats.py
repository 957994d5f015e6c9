"""Statistics for the cell's reports: requests per day, waiting times, outcomes, reasons,
suggested programmes, languages, channels; charts as inline SVG (no script, no CDN).

Computed in Python over the period's rows: a youth centre's volumes are small, and the
same code runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dashboard import labels
from bot.storage.models import Counsellor, Handoff, Person, Referral, utcnow

WAIT_BUCKETS = ((300, "< 5 min"), (900, "5–15 min"), (3600, "15–60 min"), (14400, "1–4 h"))


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float
    x: float
    y: float
    width: float
    height: float
    display: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    horizontal: bool


def bar_chart(title: str, items: list[tuple[str, int | float]], *, horizontal: bool = True,
              unit: str = "") -> Chart:  # fmt: skip
    """Bars laid out for an SVG: horizontal for categories, vertical for days."""
    peak = max((value for _, value in items), default=0) or 1
    if horizontal:
        items = [(_short(label), value) for label, value in items]
        row, width, label_width = 30, 480, 230
        bars = [
            Bar(
                label,
                value,
                label_width,
                index * row + 4,
                max(1.0, (width - label_width - 60) * value / peak) if value else 0.0,
                row - 10,
                f"{value}{unit}",
            )
            for index, (label, value) in enumerate(items)
        ]
        return Chart(title, bars, width, max(row * len(items) + 8, 40), True)
    height, slot = 160, max(6, min(40, 460 // max(1, len(items))))
    bars = [
        Bar(
            label,
            value,
            index * slot + 2,
            height - (height - 20) * value / peak,
            slot - 4,
            (height - 20) * value / peak,
            f"{value}{unit}",
        )
        for index, (label, value) in enumerate(items)
    ]
    return Chart(title, bars, slot * len(items) + 4, height + 24, False)


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


@dataclass
class Report:
    since: datetime
    days: int
    handoffs: list[Handoff]
    counsellors: dict[int, str]
    per_day: list[tuple[str, int]]
    waits: list[int]  # seconds from request to a counsellor taking it
    charts: list[Chart]
    people_count: int

    @property
    def total(self) -> int:
        return len(self.handoffs)

    @property
    def urgent(self) -> int:
        return sum(1 for h in self.handoffs if h.priority == "urgent")

    def wait_summary(self) -> dict[str, str]:
        from bot.dashboard.inbox import format_duration

        if not self.waits:
            return {"median": "—", "p90": "—", "count": "0"}
        ordered = sorted(self.waits)
        p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
        return {
            "median": format_duration(statistics.median(ordered)),
            "p90": format_duration(p90),
            "count": str(len(ordered)),
        }


def _wait(h: Handoff) -> int | None:
    if h.claimed_at is None:
        return None
    return max(0, int((h.claimed_at - h.created_at).total_seconds()))


def build_report(session: Session, *, days: int = 30, today: date | None = None) -> Report:
    days = max(1, min(days, 366))
    now = utcnow()
    since = now - timedelta(days=days)
    handoffs = list(
        session.execute(
            select(Handoff).where(Handoff.created_at >= since).order_by(Handoff.created_at)
        ).scalars()
    )
    counsellors = {
        c.id: c.display_name or c.username for c in session.execute(select(Counsellor)).scalars()
    }
    first_day = (today or now.date()) - timedelta(days=days - 1)
    by_day = Counter(h.created_at.date() for h in handoffs)
    per_day = [
        ((first_day + timedelta(days=i)).strftime("%d/%m"), by_day.get(first_day + timedelta(i), 0))
        for i in range(days)
    ]
    waits = [w for w in (_wait(h) for h in handoffs) if w is not None]
    bucket_counts = Counter()
    for wait in waits:
        label = next((name for limit, name in WAIT_BUCKETS if wait < limit), "> 4 h")
        bucket_counts[label] += 1
    referrals = Counter(
        program_id
        for (program_id,) in session.execute(
            select(Referral.program_id).where(
                Referral.created_at >= since, Referral.kind == "suggested"
            )
        )
    )
    people = session.execute(select(Person.channel, Person.language).where(
        Person.last_seen_at >= since)).all()  # fmt: skip

    def counted(codes, table) -> list[tuple[str, int]]:
        return [(labels.of(table, code), n) for code, n in Counter(codes).most_common()]

    charts = [
        bar_chart("Demandes par jour", per_day, horizontal=False),
        bar_chart(
            "Temps d'attente avant prise en charge",
            [(name, bucket_counts.get(name, 0)) for _, name in WAIT_BUCKETS]
            + [("> 4 h", bucket_counts.get("> 4 h", 0))],
        ),
        bar_chart("Issues", counted([h.outcome for h in handoffs if h.outcome], labels.OUTCOME)),
        bar_chart("Raisons", counted([h.reason for h in handoffs], labels.REASON)),
        bar_chart("Programmes proposés (par le bot)", referrals.most_common(15)),
        bar_chart("Langues des demandes", counted([h.language for h in handoffs], labels.LANGUAGE)),
        bar_chart("Canaux des demandes", counted([h.channel for h in handoffs], labels.CHANNEL)),
        bar_chart(
            "Langues des jeunes actifs", counted([p.language for p in people], labels.LANGUAGE)
        ),
        bar_chart("Canaux des jeunes actifs", counted([p.channel for p in people], labels.CHANNEL)),
    ]
    return Report(since, days, handoffs, counsellors, per_day, waits, charts, len(people))


def _iso(moment: datetime | None) -> str:
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else ""


def handoffs_csv(report: Report) -> str:
    """One row per request, without the person's pseudonym or any message text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "created_at", "priority", "reason", "status", "language", "channel",
         "claimed_at", "wait_seconds", "resolved_at", "outcome", "handed_back", "counsellor"]
    )  # fmt: skip
    for h in report.handoffs:
        writer.writerow(
            [h.id, _iso(h.created_at), h.priority, h.reason, h.status, h.language or "",
             h.channel, _iso(h.claimed_at), _wait(h) if _wait(h) is not None else "",
             _iso(h.resolved_at), h.outcome or "",
             "" if h.handed_back is None else int(h.handed_back),
             report.counsellors.get(h.claimed_by, "") if h.claimed_by else ""]
        )  # fmt: skip
    return out.getvalue()


def daily_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "requests"])
    for day, count in report.per_day:
        writer.writerow([day, count])
    return out.getvalue()
