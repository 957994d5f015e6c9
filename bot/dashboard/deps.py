"""FastAPI dependencies: the database session, the signed-in counsellor, CSRF, roles.

API routes answer 401 without a session; pages redirect to the login page instead
(`LoginRequired`, handled in app.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session

from bot.dashboard import accounts, security
from bot.dashboard.rasa_api import RasaClient, rasa_client
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import Counsellor


class LoginRequired(Exception):
    """A page needs a signed-in counsellor: redirect to /login."""


def get_db() -> Iterator[Session]:
    """The request's database session: committed when the route returns, rolled back when
    it raises (the app's exception handlers then answer), closed before the response is
    sent."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db, scope="function")]

# Row ids in paths: bounded to what the databases store (a larger number is a 422, not an
# overflow deep in SQLite's driver; found by tests/test_fuzz.py).
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
# Person ids are pseudonyms (`whatsapp-<hex>`) or the web chat's and REST's sender ids.
PersonId = Annotated[str, Path(min_length=1, max_length=64, regex=r"^[A-Za-z0-9_.:@+-]+$")]


@dataclass(frozen=True)
class SignedIn:
    counsellor: Counsellor
    csrf_token: str
    token: str
    # Read at sign-in, so that a page rendered after its transaction was rolled back (an
    # error page) still says who is signed in.
    name: str
    is_admin: bool


def _signed_in(request: Request, session: Session) -> SignedIn | None:
    token = request.cookies.get(security.SESSION_COOKIE)
    found = accounts.session_for_token(session, token=token)
    if found is None:
        return None
    login, counsellor = found
    signed_in = SignedIn(
        counsellor=counsellor,
        csrf_token=login.csrf_token,
        token=token or "",
        name=counsellor.display_name or counsellor.username,
        is_admin=counsellor.role == "admin",
    )
    request.state.user = signed_in  # for the templates
    return signed_in


def api_user(request: Request, session: SessionDep) -> SignedIn:
    signed_in = _signed_in(request, session)
    if signed_in is None:
        raise HTTPException(status_code=401, detail="Connexion requise.")
    return signed_in


def page_user(request: Request, session: SessionDep) -> SignedIn:
    signed_in = _signed_in(request, session)
    if signed_in is None:
        raise LoginRequired()
    return signed_in


CurrentUser = Annotated[SignedIn, Depends(api_user)]
PageUser = Annotated[SignedIn, Depends(page_user)]


async def check_csrf(request: Request, user: CurrentUser) -> SignedIn:
    """State changes carry the session's CSRF token: header X-CSRF-Token (API, scripts)
    or the form field `csrf_token` (pages). Missing or wrong: 403."""
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = (await request.form()).get("csrf_token")
    if not security.same_token(user.csrf_token, str(given) if given else None):
        raise HTTPException(status_code=403, detail="Jeton CSRF manquant ou invalide.")
    return user


CsrfUser = Annotated[SignedIn, Depends(check_csrf)]


def require_admin(user: CurrentUser) -> SignedIn:
    if not user.is_admin:
        raise HTTPException(status_code=403, detail="Réservé aux administrateurs.")
    return user


def get_rasa() -> RasaClient:
    """Overridden in tests by a recording fake."""
    return rasa_client()


RasaDep = Annotated[RasaClient, Depends(get_rasa)]


def client_address(request: Request) -> str:
    """The address the login limits count: the peer, or, when the peer is one of
    BOUSLA_TRUSTED_PROXIES, the last address of X-Forwarded-For that is not a proxy."""
    peer = request.client.host if request.client else "?"
    proxies = trusted_proxies()
    if not proxies or not _is_in(peer, proxies):
        return peer
    forwarded = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in forwarded if a]):
        if not _is_in(address, proxies):
            return address[:64]
    return peer


def forwarded_proto(request: Request) -> str:
    """X-Forwarded-Proto, only from a trusted proxy."""
    peer = request.client.host if request.client else "?"
    proxies = trusted_proxies()
    if proxies and _is_in(peer, proxies):
        return request.headers.get("x-forwarded-proto", "")
    return ""


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in get_settings().trusted_proxies.split(","):
        if entry.strip():
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
    return networks


def _is_in(address: str, networks: list) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)
