"""`bousla report` and the statistics behind it, checked against a seeded database on
SQLite and PostgreSQL; the dashboard's statistics page shows the same figures."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.cli import main
from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.report.build import REPORT_FILES
from bot.report.stats import Period, build_report, followups_table, referrals_table
from bot.storage.db import session_scope
from bot.storage.models import (
    AuditEntry,
    Followup,
    Handoff,
    InboundMessage,
    Person,
    Referral,
    utcnow,
)
from tests.dashboard_support import (  # noqa: F401 - fixture
    PASSWORD,
    FakeRasa,
    add_account,
    fast_password_hashing,
)

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)


def seed() -> None:
    """Five people heard in November, one in October only; what each did is below."""
    people = [
        # id, channel, language, goal
        ("p-job", "whatsapp", "ary_latn", "job"),
        ("p-train", "whatsapp", "fr", "training"),
        ("p-listen", "telegram", "ary", None),
        ("p-orient", "webchat", "fr", None),
        ("p-info", "whatsapp", "ary", None),
        ("p-october", "whatsapp", "fr", "project"),
    ]
    with session_scope() as session:
        for person_id, channel, language, goal in people:
            session.add(
                Person(
                    id=person_id,
                    channel=channel,
                    language=language,
                    goal=goal,
                    created_at=datetime(2026, 10, 1),
                    last_seen_at=datetime(2026, 10, 31),
                )
            )
        session.flush()
        for number, (person_id, day) in enumerate(
            [
                ("p-job", 2),
                ("p-train", 3),
                ("p-listen", 4),
                ("p-info", 5),
                ("p-info", 6),
                ("p-october", 31),
            ]
        ):
            month = 10 if person_id == "p-october" else 11
            session.add(
                InboundMessage(
                    channel="whatsapp",
                    provider_message_id=f"SM{number}",
                    person_id=person_id,
                    text="salam",
                    received_at=datetime(2026, month, day, 9),
                    status="done",
                )
            )
        for person_id, program_id, kind, day in [
            ("p-job", "anapec-idmaj", "suggested", 2),
            ("p-job", "ofppt", "suggested", 2),
            ("p-job", "anapec-idmaj", "chosen", 2),
            ("p-train", "ofppt", "suggested", 3),
            ("p-orient", "ofppt", "suggested", 7),  # REST/web chat: no inbox row needed
            ("p-october", "forsa", "suggested", 31),
        ]:
            month = 10 if person_id == "p-october" else 11
            session.add(
                Referral(
                    person_id=person_id,
                    program_id=program_id,
                    kind=kind,
                    channel="whatsapp",
                    created_at=datetime(2026, month, day, 10),
                )
            )
        session.flush()
        for person_id, program_id, status, outcome, day in [
            ("p-job", "anapec-idmaj", "answered", "went_well", 16),
            ("p-train", "ofppt", "asked", None, 17),
            ("p-orient", "ofppt", "unanswered", None, 21),
            ("p-october", "forsa", "answered", "not_yet", 14),  # asked in November too
        ]:
            session.add(
                Followup(
                    person_id=person_id,
                    program_id=program_id,
                    channel="whatsapp",
                    status=status,
                    outcome=outcome,
                    attempts=1,
                    created_at=at(day),
                    asked_at=at(day),
                    answered_at=at(day, 12) if outcome else None,
                )
            )
        # Requests for a counsellor: taken after 2 min and 10 min, one never taken.
        for person_id, reason, priority, claimed in [
            ("p-listen", "need_listening", "normal", at(4, 10, 2)),
            ("p-info", "ask_human", "normal", at(5, 10, 10)),
            ("p-listen", "distress", "urgent", None),
        ]:
            session.add(
                Handoff(
                    person_id=person_id,
                    channel="whatsapp",
                    language="fr",
                    reason=reason,
                    priority=priority,
                    status="claimed" if claimed else "open",
                    created_at=at(4 if person_id == "p-listen" else 5),
                    claimed_at=claimed,
                )
            )


def test_figures_of_a_period(database_url):
    seed()
    with session_scope() as session:
        report = build_report(session, period=Period(FIRST, LAST))
        assert report.people_count == 5  # p-october wrote in October only
        tracks = sorted(p.track for p in report.people)
        assert tracks == ["counsellor", "job", "listening", "orientation", "training"]
        assert sorted(p.channel for p in report.people) == [
            "telegram",
            "webchat",
            "whatsapp",
            "whatsapp",
            "whatsapp",
        ]
        assert (report.total, report.urgent, sorted(report.waits)) == (3, 1, [120, 600])
        assert report.wait_seconds() == {"median": 360.0, "p90": 600}
        assert len(report.per_day) == 30 and dict(report.per_day)["04/11"] == 2

        header, rows = referrals_table(report)
        by_program = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
        assert by_program["anapec-idmaj"] == {
            "program_id": "anapec-idmaj",
            "suggested": 1,
            "chosen": 1,
            "people": 1,
            "followups_asked": 1,
            "went_well": 1,
            "waiting": 0,
            "contacted": 0,
            "not_well": 0,
            "not_yet": 0,
            "counsellor": 0,
            "waiting_answer": 0,
            "unanswered": 0,
        }
        assert (by_program["ofppt"]["suggested"], by_program["ofppt"]["people"]) == (3, 3)
        assert (by_program["ofppt"]["waiting_answer"], by_program["ofppt"]["unanswered"]) == (1, 1)
        # Forsa: suggested in October, but its follow-up was asked in November.
        assert (by_program["forsa"]["suggested"], by_program["forsa"]["not_yet"]) == (0, 1)

        answers = {row[0]: row[2] for row in followups_table(report)[1]}
        assert answers == {
            "went_well": 1,
            "waiting": 0,
            "contacted": 0,
            "not_well": 0,
            "not_yet": 1,
            "counsellor": 0,
            "waiting_answer": 1,
            "unanswered": 1,
        }


def read_csv(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_the_command_writes_csv_files_and_one_self_contained_page(database_url, tmp_path, capsys):
    seed()
    out = tmp_path / "rapport"
    assert main(["report", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(REPORT_FILES)
    printed = capsys.readouterr().out
    assert "5 people heard, 3 requests for a counsellor, 4 follow-ups asked" in printed

    summary = {row["figure"]: row["value"] for row in read_csv(out / "summary.csv")}
    assert summary["people_heard"] == "5" and summary["wait_median_seconds"] == "360"
    assert (summary["followups_asked"], summary["followups_answered"]) == ("4", "2")
    people = read_csv(out / "people.csv")
    assert {
        "dimension": "language",
        "code": "ary",
        "label": "Darija (arabe)",
        "people": "2",
    } in people
    assert len(read_csv(out / "handoffs.csv")) == 3
    assert len(read_csv(out / "daily.csv")) == 30
    assert {row["program_id"] for row in read_csv(out / "referrals.csv")} == {
        "anapec-idmaj",
        "ofppt",
        "forsa",
    }
    exported = "".join(path.read_text() for path in out.glob("*"))
    assert not re.search(r"p-(job|train|listen|orient|info|october)", exported)  # no pseudonyms

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 10
    assert "Suivi à deux semaines : réponses" in html and "Contacté, bien passé" in html
    assert "du <strong>01/11/2026</strong> au <strong>30/11/2026</strong>" in html
    # Self-contained: nothing to fetch (no external script, stylesheet, image or font).
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html and "--brand:" in html
    with session_scope() as session:
        audit = session.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert ("report_exported", "cli") in audit


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("2026-13-01", "2026-11-30", "--from '2026-13-01' is not a date (YYYY-MM-DD"),
        ("2026-11-01", "30/11/2026", "--to '30/11/2026' is not a date"),
        ("2026-11-30", "2026-11-01", "--from 2026-11-30 is after --to 2026-11-01"),
    ],
)
def test_bad_dates_get_one_clear_sentence(first, last, message, tmp_path, capsys):
    assert main(["report", "--from", first, "--to", last, "--out", str(tmp_path / "r")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.usefixtures("fast_password_hashing")
def test_the_dashboard_shows_the_follow_up_answers(database_url):
    recent = utcnow() - timedelta(days=2)
    with session_scope() as session:
        session.add(Person(id="p-dash", channel="whatsapp", created_at=recent, last_seen_at=recent))
        session.flush()
        session.add(
            Followup(
                person_id="p-dash",
                program_id="ofppt",
                channel="whatsapp",
                status="answered",
                outcome="waiting",
                attempts=1,
                created_at=recent,
                asked_at=recent,
                answered_at=recent,
            )
        )
    add_account("amina")
    app = create_app()
    app.dependency_overrides[get_rasa] = lambda: FakeRasa()
    with TestClient(app) as client:
        client.post("/login", data={"username": "amina", "password": PASSWORD, "next": "/"})
        page = client.get("/stats?days=7").text
        assert "Suivi à deux semaines : réponses" in page
        assert "Contacté, attend réponse : 1" in page  # the bar's tooltip
        assert "<strong>1 / 1</strong> réponses au suivi" in page
        exported = client.get("/stats/export.csv?days=7&table=followups")
        rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
        assert {"answer": "waiting", "label": "Contacté, attend réponse", "followups": "1"} in rows
