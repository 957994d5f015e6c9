"""Statistics page and CSV export."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from bot.dashboard.deps import PageUser, SessionDep
from bot.dashboard.templating import render
from bot.report.stats import TABLES, build_report, to_csv
from bot.storage.audit import record

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(
    request: Request, session: SessionDep, user: PageUser, days: int = Query(30, ge=1, le=366)
) -> HTMLResponse:
    report = build_report(session, days=days)
    return render(request, "stats.html", {"active": "stats", "report": report, "days": days})


@router.get("/stats/export.csv")
def stats_csv(
    session: SessionDep,
    user: PageUser,
    days: int = Query(30, ge=1, le=366),
    table: Literal["handoffs", "daily", "people", "referrals", "followups", "summary"] = "handoffs",
) -> Response:
    report = build_report(session, days=days)
    body = to_csv(TABLES[table](report))
    record(
        session,
        actor=user.counsellor.username,
        action="statistics_exported",
        details={"table": table, "days": days},
    )
    return Response(
        "\ufeff" + body,  # BOM: Excel opens UTF-8 correctly
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bousla-{table}-{days}j.csv"'},
    )
