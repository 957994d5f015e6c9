"""The programme catalogue as programme staff need to see it: programmes in service,
files refused (errors in French with file and line), warnings and stale entries."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.catalog import CatalogStore
from bot.dashboard.deps import PageUser
from bot.dashboard.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
STALENESS = {"expired": "périmé (valid_until dépassé)", "old": "à revérifier (ancien)"}


@lru_cache(maxsize=1)
def catalog_store() -> CatalogStore:
    """The dashboard's own store: it reloads after each edit, like the action server's."""
    return CatalogStore()


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(request: Request, user: PageUser) -> HTMLResponse:
    store = catalog_store()
    status = store.status()
    today = date.today()
    programs = sorted(store.catalog, key=lambda p: p.id)
    rows = [
        {
            "program": program,
            "staleness": STALENESS.get(program.staleness(today) or ""),
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
            "stale_count": sum(1 for row in rows if row["staleness"]),
        },
    )
