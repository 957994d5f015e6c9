"""Signing in and out: the JSON API (`/api/session`) and the login page."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from bot.dashboard import accounts, security
from bot.dashboard.deps import CsrfUser, SessionDep, client_address, forwarded_proto
from bot.dashboard.schemas import Detail, LoginIn, SessionOut
from bot.dashboard.templating import render
from bot.settings import get_settings

router = APIRouter(tags=["session"])


def secure_cookies(request: Request) -> bool:
    """Secure cookies in production, and whenever the browser came over https (also
    behind a proxy that says so)."""
    forwarded = forwarded_proto(request)
    return get_settings().is_production or request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        security.SESSION_COOKIE,
        token,
        max_age=security.SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )


def _login(session, request: Request, username: str, password: str):
    """(counsellor, login session) or an HTTPException 401/429."""
    address = client_address(request)
    try:
        counsellor = accounts.authenticate(
            session, username=username, password=password, address=address
        )
    except accounts.LoginThrottled as throttled:
        session.commit()
        raise HTTPException(
            status_code=429,
            detail="Trop d'essais : réessaie dans quelques minutes.",
            headers={"Retry-After": str(throttled.retry_after_seconds)},
        ) from None
    if counsellor is None:
        session.commit()  # keep the failure: it counts for the rate limit
        raise HTTPException(status_code=401, detail="Identifiant ou mot de passe incorrect.")
    login = accounts.open_session(session, counsellor=counsellor, address=address)
    return counsellor, login


@router.post(
    "/api/session",
    response_model=SessionOut,
    responses={401: {"model": Detail}, 429: {"model": Detail}},
)
def api_login(body: LoginIn, request: Request, session: SessionDep) -> JSONResponse:
    """Sign in: sets the session cookie; send `csrf_token` as X-CSRF-Token afterwards."""
    counsellor, login = _login(session, request, body.username, body.password)
    payload = SessionOut(
        username=counsellor.username,
        display_name=counsellor.display_name,
        role=counsellor.role,
        csrf_token=login.csrf_token,
        expires_at=login.expires_at,
    )
    response = JSONResponse(payload.dict() | {"expires_at": login.expires_at.isoformat()})
    set_session_cookie(response, request, login.token)
    return response


@router.delete("/api/session", status_code=204, responses={401: {"model": Detail}})
def api_logout(user: CsrfUser, session: SessionDep) -> Response:
    accounts.close_session(session, token=user.token, actor=user.counsellor.username)
    response = Response(status_code=204)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


def _safe_next(target: str | None) -> str:
    """Only local paths: the login form must not send people to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(
    request: Request,
    session: SessionDep,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
) -> Response:
    try:
        _, login = _login(session, request, username, password)
    except HTTPException as error:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": error.detail, "username": username},
            status_code=error.status_code,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, login.token)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(user: CsrfUser, session: SessionDep) -> Response:
    accounts.close_session(session, token=user.token, actor=user.counsellor.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response
