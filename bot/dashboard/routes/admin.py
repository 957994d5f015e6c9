"""Administrators: counsellor accounts and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bot.dashboard import accounts
from bot.dashboard.deps import CsrfUser, RowId, SessionDep, page_user, require_admin
from bot.dashboard.templating import render
from bot.storage.models import AuditEntry, Counsellor

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    include_in_schema=False,
    dependencies=[Depends(page_user), Depends(require_admin)],
)
FLASH = {
    "created": "Compte créé.",
    "password": "Mot de passe changé ; ses sessions ouvertes sont fermées.",
    "enabled": "Compte réactivé.",
    "disabled": "Compte désactivé ; ses sessions ouvertes sont fermées.",
}


def _accounts_page(request: Request, session, flash=None, error=None, status_code=200):
    return render(
        request,
        "accounts.html",
        {
            "active": "accounts",
            "counsellors": accounts.list_counsellors(session),
            "flash": error or flash,
            "flash_kind": "error" if error else "ok",
        },
        status_code=status_code,
    )


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, session: SessionDep, done: str = "") -> HTMLResponse:
    return _accounts_page(request, session, flash=FLASH.get(done))


@router.post("/accounts")
def create_account(
    request: Request,
    session: SessionDep,
    user: CsrfUser,
    username: str = Form(...),
    display_name: str = Form(""),
    role: str = Form("counsellor"),
    password: str = Form(...),
) -> Response:
    try:
        accounts.create_counsellor(
            session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            actor=user.counsellor.username,
        )
    except accounts.AccountError as error:
        session.rollback()
        return _accounts_page(request, session, error=str(error), status_code=400)
    return RedirectResponse("/admin/accounts?done=created", status_code=303)


def _counsellor(session, counsellor_id: RowId) -> Counsellor | None:
    return session.get(Counsellor, counsellor_id)


@router.post("/accounts/{counsellor_id}/password")
def reset_password(
    counsellor_id: RowId,
    request: Request,
    session: SessionDep,
    user: CsrfUser,
    password: str = Form(...),
) -> Response:
    counsellor = _counsellor(session, counsellor_id)
    if counsellor is None:
        return _accounts_page(request, session, error="Compte introuvable.", status_code=404)
    try:
        accounts.set_password(
            session, counsellor=counsellor, password=password, actor=user.counsellor.username
        )
    except accounts.AccountError as error:
        session.rollback()
        return _accounts_page(request, session, error=str(error), status_code=400)
    return RedirectResponse("/admin/accounts?done=password", status_code=303)


@router.post("/accounts/{counsellor_id}/active")
def set_active(
    counsellor_id: RowId,
    request: Request,
    session: SessionDep,
    user: CsrfUser,
    active: str = Form(...),
) -> Response:
    counsellor = _counsellor(session, counsellor_id)
    if counsellor is None:
        return _accounts_page(request, session, error="Compte introuvable.", status_code=404)
    if counsellor.id == user.counsellor.id and active != "1":
        return _accounts_page(
            request, session, error="Tu ne peux pas désactiver ton propre compte.", status_code=400
        )
    accounts.set_active(
        session, counsellor=counsellor, active=active == "1", actor=user.counsellor.username
    )
    return RedirectResponse(
        f"/admin/accounts?done={'enabled' if active == '1' else 'disabled'}", status_code=303
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep, actor: str = "") -> HTMLResponse:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    entries = list(session.execute(query).scalars())
    return render(request, "audit.html", {"active": "audit", "entries": entries, "actor": actor})
