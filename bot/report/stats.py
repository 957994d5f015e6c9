"""Statistics for the cell's reports: requests per day, waiting times, outcomes, reasons,
people heard (by track, language, channel), programmes suggested and chosen, follow-up
answers; charts as inline SVG (no script, no CDN), and the tables behind them.

The one home of these figures: the dashboard's statistics page (a number of days up to
today) and `bousla report --from --to` (bot/report/) both call `build_report`.
Computed in Python over the period's rows: a youth centre's volumes are small, and the
same code runs on SQLite and PostgreSQL. Days are UTC days.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.report import labels
from bot.storage.models import (
    Counsellor,
    Followup,
    Handoff,
    InboundMessage,
    Person,
    Referral,
    utcnow,
)

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


@dataclass(frozen=True)
class Period:
    """From `first` to `last`, whole days included."""

    first: date
    last: date

    @classmethod
    def ending(cls, last: date, days: int) -> Period:
        return cls(last - timedelta(days=days - 1), last)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


@dataclass(frozen=True)
class PersonHeard:
    """A person who wrote, or was oriented or helped, during the period (no pseudonym)."""

    track: str
    language: str | None
    channel: str


@dataclass
class Report:
    period: Period
    handoffs: list[Handoff]
    counsellors: dict[int, str]
    per_day: list[tuple[str, int]]
    waits: list[int]  # seconds from request to a counsellor taking it
    people: list[PersonHeard]
    referrals: dict[str, Counter]  # programme -> {"suggested": n, "chosen": n, "people": n}
    followups: list[Followup]  # asked during the period
    charts: list[Chart]

    @property
    def since(self) -> datetime:
        return self.period.since

    @property
    def days(self) -> int:
        return self.period.days

    @property
    def people_count(self) -> int:
        return len(self.people)

    @property
    def total(self) -> int:
        return len(self.handoffs)

    @property
    def urgent(self) -> int:
        return sum(1 for h in self.handoffs if h.priority == "urgent")

    @property
    def followups_answered(self) -> int:
        return sum(1 for f in self.followups if f.status == "answered")

    def wait_summary(self) -> dict[str, str]:
        seconds = self.wait_seconds()
        if seconds is None:
            return {"median": "—", "p90": "—", "count": "0"}
        return {
            "median": labels.format_duration(seconds["median"]),
            "p90": labels.format_duration(seconds["p90"]),
            "count": str(len(self.waits)),
        }

    def wait_seconds(self) -> dict[str, float] | None:
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
        return {"median": statistics.median(ordered), "p90": p90}


def _wait(h: Handoff) -> int | None:
    if h.claimed_at is None:
        return None
    return max(0, int((h.claimed_at - h.created_at).total_seconds()))


def followup_state(followup: Followup) -> str:
    """The outcome of an answered follow-up, else "waiting_answer" or "unanswered"."""
    if followup.status == "answered" and followup.outcome:
        return followup.outcome
    return "unanswered" if followup.status == "unanswered" else "waiting_answer"


def _track(person: Person, handoff_reasons: set[str], referred: bool) -> str:
    """The person's track: their goal when they gave it, else what Bousla did for them."""
    if person.goal in labels.TRACK:
        return person.goal
    if handoff_reasons & {"need_listening", "distress"}:
        return "listening"
    if handoff_reasons:
        return "counsellor"
    return "orientation" if referred else "information"


def _people_heard(
    session: Session, period: Period, handoffs: list[Handoff], referrals: list[Referral]
) -> list[PersonHeard]:
    """Everyone who wrote, was oriented, asked for a counsellor, or was last seen then."""
    within = (period.since, period.until)
    ids = {h.person_id for h in handoffs} | {r.person_id for r in referrals}
    ids |= set(
        session.execute(
            select(InboundMessage.person_id)
            .where(InboundMessage.received_at >= within[0], InboundMessage.received_at < within[1])
            .distinct()
        ).scalars()
    )
    ids |= set(
        session.execute(
            select(Person.id).where(
                Person.last_seen_at >= within[0], Person.last_seen_at < within[1]
            )
        ).scalars()
    )
    reasons: dict[str, set[str]] = {}
    for h in handoffs:
        reasons.setdefault(h.person_id, set()).add(h.reason)
    referred = {r.person_id for r in referrals}
    people = []
    for chunk in _chunks(sorted(ids), 500):
        for person in session.execute(select(Person).where(Person.id.in_(chunk))).scalars():
            people.append(
                PersonHeard(
                    _track(person, reasons.get(person.id, set()), person.id in referred),
                    person.language,
                    person.channel,
                )
            )
    return people


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _in_order_during(session: Session, column: Any, since: datetime, until: datetime) -> list:
    """The rows whose time `column` falls in [since, until), in that order."""
    query = select(column.class_).where(column >= since, column < until).order_by(column)
    return list(session.execute(query).scalars())


def build_report(
    session: Session,
    *,
    days: int = 30,
    today: date | None = None,
    period: Period | None = None,
) -> Report:
    """The figures of `period`, or of the last `days` days up to today."""
    if period is None:
        days = max(1, min(days, 366))
        period = Period.ending(today or utcnow().date(), days)
    since, until = period.since, period.until
    handoffs = _in_order_during(session, Handoff.created_at, since, until)
    counsellors = {
        c.id: c.display_name or c.username for c in session.execute(select(Counsellor)).scalars()
    }
    by_day = Counter(h.created_at.date() for h in handoffs)
    per_day = [(day.strftime("%d/%m"), by_day.get(day, 0)) for day in period.dates()]
    waits = [w for w in (_wait(h) for h in handoffs) if w is not None]
    bucket_counts = Counter()
    for wait in waits:
        label = next((name for limit, name in WAIT_BUCKETS if wait < limit), "> 4 h")
        bucket_counts[label] += 1
    referral_rows = list(
        session.execute(
            select(Referral).where(Referral.created_at >= since, Referral.created_at < until)
        ).scalars()
    )
    referrals: dict[str, Counter] = {}
    persons_by_program: dict[str, set[str]] = {}
    for referral in referral_rows:
        referrals.setdefault(referral.program_id, Counter())[referral.kind] += 1
        persons_by_program.setdefault(referral.program_id, set()).add(referral.person_id)
    for program_id, persons in persons_by_program.items():
        referrals[program_id]["people"] = len(persons)
    followups = _in_order_during(session, Followup.asked_at, since, until)
    people = _people_heard(session, period, handoffs, referral_rows)

    def counted(codes, table) -> list[tuple[str, int]]:
        return [(labels.of(table, code), n) for code, n in Counter(codes).most_common()]

    def ranked(kind: str) -> list[tuple[str, int]]:
        counts = Counter({p: c[kind] for p, c in referrals.items() if c[kind]})
        return counts.most_common(15)

    charts = [
        bar_chart("Demandes par jour", per_day, horizontal=False),
        bar_chart(
            "Temps d'attente avant prise en charge",
            [(name, bucket_counts.get(name, 0)) for _, name in WAIT_BUCKETS]
            + [("> 4 h", bucket_counts.get("> 4 h", 0))],
        ),
        bar_chart("Issues", counted([h.outcome for h in handoffs if h.outcome], labels.OUTCOME)),
        bar_chart("Raisons", counted([h.reason for h in handoffs], labels.REASON)),
        bar_chart("Programmes proposés (par le bot)", ranked("suggested")),
        bar_chart("Programmes choisis (détails, candidature)", ranked("chosen")),
        bar_chart(
            "Suivi à deux semaines : réponses",
            counted([followup_state(f) for f in followups], labels.FOLLOWUP),
        ),
        bar_chart("Langues des demandes", counted([h.language for h in handoffs], labels.LANGUAGE)),
        bar_chart("Canaux des demandes", counted([h.channel for h in handoffs], labels.CHANNEL)),
        bar_chart("Parcours des jeunes écoutés", counted([p.track for p in people], labels.TRACK)),
        bar_chart(
            "Langues des jeunes écoutés", counted([p.language for p in people], labels.LANGUAGE)
        ),
        bar_chart(
            "Canaux des jeunes écoutés", counted([p.channel for p in people], labels.CHANNEL)
        ),
    ]
    return Report(
        period, handoffs, counsellors, per_day, waits, people, referrals, followups, charts
    )


def _iso(moment: datetime | None) -> str:
    return moment.replace(tzinfo=timezone.utc).isoformat() if moment else ""


Table = tuple[list[str], list[list[object]]]


def handoffs_table(report: Report) -> Table:
    """One row per request, without the person's pseudonym or any message text."""
    header = ["id", "created_at", "priority", "reason", "status", "language", "channel",
              "claimed_at", "wait_seconds", "resolved_at", "outcome", "handed_back",
              "counsellor"]  # fmt: skip
    rows = [
        [h.id, _iso(h.created_at), h.priority, h.reason, h.status, h.language or "",
         h.channel, _iso(h.claimed_at), _wait(h) if _wait(h) is not None else "",
         _iso(h.resolved_at), h.outcome or "",
         "" if h.handed_back is None else int(h.handed_back),
         report.counsellors.get(h.claimed_by, "") if h.claimed_by else ""]
        for h in report.handoffs
    ]  # fmt: skip
    return header, rows


def daily_table(report: Report) -> Table:
    return ["day", "requests"], [[day, count] for day, count in report.per_day]


def people_table(report: Report) -> Table:
    """People heard, counted by track, by language and by channel."""
    rows: list[list[object]] = []
    for dimension, table in (("track", labels.TRACK), ("language", labels.LANGUAGE),
                             ("channel", labels.CHANNEL)):  # fmt: skip
        counts = Counter(getattr(p, dimension) for p in report.people)
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], str(item[0]))):
            rows.append([dimension, code or "", labels.of(table, code), count])
    return ["dimension", "code", "label", "people"], rows


def referrals_table(report: Report) -> Table:
    """Per programme: suggestions, choices, people, and the follow-ups asked about it."""
    states = list(labels.FOLLOWUP)
    asked: dict[str, Counter] = {}
    for followup in report.followups:
        asked.setdefault(followup.program_id, Counter())[followup_state(followup)] += 1
    header = ["program_id", "suggested", "chosen", "people", "followups_asked", *states]
    rows = []
    for program_id in sorted(set(report.referrals) | set(asked)):
        counts = report.referrals.get(program_id, Counter())
        answers = asked.get(program_id, Counter())
        rows.append(
            [program_id, counts["suggested"], counts["chosen"], counts["people"],
             sum(answers.values()), *(answers[state] for state in states)]
        )  # fmt: skip
    return header, rows


def followups_table(report: Report) -> Table:
    """Answers to the follow-ups asked during the period, one row per answer."""
    counts = Counter(followup_state(f) for f in report.followups)
    rows = [[state, label, counts[state]] for state, label in labels.FOLLOWUP.items()]
    return ["answer", "label", "followups"], rows


def summary_table(report: Report) -> Table:
    waits = report.wait_seconds() or {}
    referrals = sum((c for c in report.referrals.values()), Counter())
    rows = [
        ["from", report.period.first.isoformat()],
        ["to", report.period.last.isoformat()],
        ["people_heard", report.people_count],
        ["handoffs", report.total],
        ["handoffs_urgent", report.urgent],
        ["handoffs_taken", len(report.waits)],
        ["wait_median_seconds", round(waits["median"]) if waits else ""],
        ["wait_p90_seconds", round(waits["p90"]) if waits else ""],
        ["referrals_suggested", referrals["suggested"]],
        ["referrals_chosen", referrals["chosen"]],
        ["followups_asked", len(report.followups)],
        ["followups_answered", report.followups_answered],
    ]
    return ["figure", "value"], rows


TABLES = {
    "summary": summary_table,
    "people": people_table,
    "referrals": referrals_table,
    "followups": followups_table,
    "handoffs": handoffs_table,
    "daily": daily_table,
}


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def handoffs_csv(report: Report) -> str:
    return to_csv(handoffs_table(report))


def daily_csv(report: Report) -> str:
    return to_csv(daily_table(report))
