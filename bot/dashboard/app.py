"""The dashboard application: routers by resource, wired here and nowhere else."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bot.dashboard.deps import LoginRequired
from bot.dashboard.live import ChangeFeed
from bot.dashboard.rasa_api import RasaUnavailable
from bot.dashboard.routes import (
    admin,
    api_docs,
    catalog,
    chat,
    handoffs,
    health,
    inbox,
    live,
    people,
    session,
    stats,
)
from bot.dashboard.templating import render
from bot.handoffs.service import HandoffError
from bot.settings import get_settings
from bot.storage.db import upgrade_database

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"

# Pages allow nothing from elsewhere: no inline script, no CDN. The web chat (/chat) keeps
# its own policy because it talks to the Rasa server on another port.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def refused(request: Request, status_code: int, message: str) -> Response:
    """An operation refused (its transaction rolled back by the session dependency): the
    API answers `{"detail": ...}`, a page shows the reason with a way back."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status_code)
    params = request.path_params
    if "person_id" in params:
        back = "/people"
    elif "handoff_id" in params:
        back = f"/handoffs/{int(params['handoff_id'])}"
    else:
        back = "/"
    context = {"title": "Action impossible", "message": message, "back": back}
    return render(request, "error.html", context, status_code=status_code)


@asynccontextmanager
async def lifespan(app: FastAPI):
    upgrade_database()  # idempotent: `bousla run` already did it, a lone start needs it
    yield
    await app.state.live_feed.stop()


def create_app(poll_seconds: float | None = None) -> FastAPI:
    app = FastAPI(
        title="Bousla dashboard",
        description="Counsellors' inbox: handoffs, replies, notes, outcomes.",
        lifespan=lifespan,
        # Behind the login, rendered without a CDN: bot/dashboard/routes/api_docs.py.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.live_feed = ChangeFeed(poll_seconds or get_settings().dashboard_poll_seconds)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        health,
        chat,
        session,
        handoffs,
        inbox,
        people,
        stats,
        catalog,
        admin,
        live,
        api_docs,
    ):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _: LoginRequired) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(HandoffError)
    async def handoff_refused(request: Request, error: HandoffError) -> Response:
        return refused(request, error.status_code, error.message)

    @app.exception_handler(RasaUnavailable)
    async def bot_unreachable(request: Request, error: RasaUnavailable) -> Response:
        return refused(request, 503, str(error))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.path != "/chat":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path.startswith(("/api/", "/handoffs", "/fragments", "/people")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


app = create_app()
