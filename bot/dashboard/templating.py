"""Jinja2 templates shared by the dashboard's pages (autoescaped).

`render` adds what every page needs (the signed-in counsellor, the CSRF token, labels)
so that templates stay simple.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from bot.centre import CentreConfigError, load_centre
from bot.report import labels


def https_url(url: object) -> str | None:
    """A media link the dashboard may render: https only (never javascript:, data: or
    plain http)."""
    return url if isinstance(url, str) and url.lower().startswith("https://") else None


templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def iso_utc(moment: datetime | None) -> str:
    """A naive UTC time as ISO 8601 with its zone, for <time datetime> and scripts."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=timezone.utc).isoformat()


def local_time(moment: datetime | None, fmt: str = "%d/%m %H:%M") -> str:
    """A naive UTC time shown in the centre's time zone (Morocco)."""
    if moment is None:
        return ""
    try:
        zone = load_centre().zone
    except CentreConfigError:
        return moment.strftime(fmt) + " UTC"
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).strftime(fmt)


def duration(seconds: int | float | None) -> str:
    return labels.format_duration(seconds or 0)


templates.env.filters["iso"] = iso_utc
templates.env.filters["https_url"] = https_url
templates.env.filters["duration"] = duration
templates.env.filters["local"] = local_time
templates.env.globals["labels"] = labels


def render(
    request: Request, name: str, context: dict | None = None, status_code: int = 200
) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    base = {"user": user, "csrf_token": user.csrf_token if user else ""}
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
