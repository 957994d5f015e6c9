"""The programme catalogue as programme staff need to see it: programmes in service,
files refused (errors in French with file and line), warnings, and the programmes to
re-verify, most urgent first (bot/catalog/freshness.py)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.catalog import CatalogStore
from bot.catalog.freshness import to_review
from bot.catalog.schema import stale_months_setting
from bot.dashboard.deps import PageUser
from bot.dashboard.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
# What a programme is on the day, in the words of programme staff.
STATUS_ON_THE_DAY = {
    "active": "ouvert",
    "to_confirm": "ouvert, à confirmer",
    "paused": "en pause (jamais proposé)",
    "ended": "terminé (jamais proposé)",
    "expired": "date passée (plus proposé)",
}
REVIEW_LABELS = {"expired": "périmé", "stale": "à revérifier", "expires_soon": "se termine bientôt"}


@lru_cache(maxsize=1)
def catalog_store() -> CatalogStore:
    """The dashboard's own store: it reloads after each edit, like the action server's."""
    return CatalogStore()


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, user: PageUser) -> HTMLResponse:
    store = catalog_store()
    status = store.status()
    today = date.today()
    stale_months = stale_months_setting()
    programs = sorted(store.catalog, key=lambda p: p.id)
    reviews = to_review(programs, today, stale_months)
    review_of = {review.program.id: review for review in reviews}
    rows = [
        {
            "program": program,
            "status": STATUS_ON_THE_DAY[program.status_on(today)],
            "closed": not program.is_open_on(today),
            "review": review_of.get(program.id),
        }
        for program in programs
    ]
    return render(
        request,
        "catalog.html",
        {
            "active": "catalog",
            "status": status,
            "rows": rows,
            "reviews": reviews,
            "review_labels": REVIEW_LABELS,
            "stale_months": stale_months,
            "stale_count": len(reviews),
            "closed_count": sum(1 for row in rows if row["closed"]),
        },
    )
