"""The inbox pages: the queue and one conversation, with their forms and the fragments
that live updates fetch (server-rendered, so every text is escaped by Jinja)."""

from __future__ import annotations

import secrets
from typing import Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.centre import CentreConfigError, load_centre
from bot.dashboard.deps import CsrfUser, PageUser, RasaDep, RowId, SessionDep
from bot.dashboard.templating import render
from bot.handoffs import service, views
from bot.language import LANGUAGES
from bot.safety import find_distress
from bot.storage.models import Handoff

router = APIRouter(tags=["pages"], include_in_schema=False)

DELIVERY = {
    "pending": "en file",
    "sending": "envoi…",
    "sent": "envoyé",
    "delivered": "remis",
    "read": "lu",
    "failed": "échec d'envoi",
    "undelivered": "non remis",
}
FLASH = {
    "claimed": "Demande prise : le bot se tait pour cette personne.",
    "sent": "Message envoyé (en file vers la personne).",
    "noted": "Note ajoutée.",
    "resolved": "Demande résolue.",
    "taken": "Conversation prise en main : le bot se tait pour cette personne.",
}
Tab = Literal["active", "resolved", "cancelled"]


def _queue_context(session, tab: str) -> dict:
    shown = views.list_handoffs(session, status=None if tab == "active" else tab)
    active = shown if tab == "active" else views.list_handoffs(session)
    return {
        "views": shown,
        "tab": tab,
        "active_count": sum(1 for v in active if v.handoff.status == "open"),
    }


@router.get("/", response_class=HTMLResponse)
def queue_page(
    request: Request, session: SessionDep, user: PageUser, status: Tab = "active"
) -> HTMLResponse:
    return render(request, "queue.html", {"active": "queue", **_queue_context(session, status)})


@router.get("/fragments/queue", response_class=HTMLResponse)
def queue_fragment(
    request: Request, session: SessionDep, user: PageUser, status: Tab = "active"
) -> HTMLResponse:
    return render(request, "_queue_rows.html", _queue_context(session, status))


def transcript_entry(entry, names: dict, trigger=None) -> dict:
    """One line of a transcript page: who wrote what, when, whether it reads as distress
    and whether it is the message that raised the request (`trigger`)."""
    return {
        "trigger": trigger is not None
        and entry.author == "person"
        and entry.at == trigger.at
        and entry.text == trigger.text,
        "at": entry.at,
        "author": entry.author,
        "text": entry.text,
        "media": entry.media,
        "buttons": entry.buttons,
        "status": entry.status,
        "counsellor": names.get(entry.counsellor_id) if entry.counsellor_id else None,
        "flagged": entry.author == "person" and find_distress(entry.text or "") is not None,
    }


def _entries(session, handoff: Handoff) -> list[dict]:
    names = views.counsellor_names(session)
    trigger = views.handoff_view(session, handoff=handoff).trigger
    return [
        transcript_entry(entry, names, trigger)
        for entry in views.conversation(session, handoff=handoff)
    ]


def _handoff_context(session, handoff: Handoff) -> dict:
    try:
        canned = load_centre().canned_replies
    except CentreConfigError:
        canned = []
    language = handoff.language if handoff.language in LANGUAGES else "fr"
    return {
        "view": views.handoff_view(session, handoff=handoff),
        "entries": _entries(session, handoff),
        "notes": views.notes_of(session, handoff=handoff),
        "earlier": views.earlier_handoffs(session, handoff=handoff),
        "canned": canned,
        # the person's language first
        "languages": [language] + [code for code in LANGUAGES if code != language],
        "delivery": DELIVERY,
        "client_key": secrets.token_hex(8),
    }


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
def handoff_page(
    handoff_id: RowId, request: Request, session: SessionDep, user: PageUser, done: str = ""
) -> HTMLResponse:
    try:
        handoff = service.get_handoff(session, handoff_id=handoff_id)
    except service.NotFound as error:
        context = {"title": "Action impossible", "message": error.message, "back": "/"}
        return render(request, "error.html", context, status_code=error.status_code)
    service.record_view(session, handoff=handoff, counsellor=user.counsellor)
    context = _handoff_context(session, handoff)
    return render(request, "handoff.html", {**context, "active": "queue", "flash": FLASH.get(done)})


@router.get("/handoffs/{handoff_id}/fragments/{part}", response_class=HTMLResponse)
def handoff_fragment(
    handoff_id: RowId,
    part: Literal["head", "transcript", "notes"],
    request: Request,
    session: SessionDep,
    user: PageUser,
) -> Response:
    try:
        handoff = service.get_handoff(session, handoff_id=handoff_id)
    except service.NotFound:
        return Response(status_code=404)
    if part == "transcript":
        context = {"entries": _entries(session, handoff), "delivery": DELIVERY}
    elif part == "notes":
        context = {"notes": views.notes_of(session, handoff=handoff)}
    else:
        context = {"view": views.handoff_view(session, handoff=handoff)}
    return render(request, f"_{'handoff_head' if part == 'head' else part}.html", context)


def _act(session, handoff_id: RowId, operation, done: str) -> Response:
    """Run a form's operation on the request, then show it with a note of what was done
    (a refusal is the app's error page, after the session dependency rolled it back)."""
    operation(service.get_handoff(session, handoff_id=handoff_id))
    return RedirectResponse(f"/handoffs/{handoff_id}?done={done}", status_code=303)


@router.post("/handoffs/{handoff_id}/claim")
def claim_form(handoff_id: RowId, session: SessionDep, user: CsrfUser, rasa: RasaDep) -> Response:
    return _act(
        session,
        handoff_id,
        lambda h: service.claim(session, handoff=h, counsellor=user.counsellor, rasa=rasa),
        "claimed",
    )


@router.post("/handoffs/{handoff_id}/reply")
def reply_form(
    handoff_id: RowId,
    session: SessionDep,
    user: CsrfUser,
    rasa: RasaDep,
    text: str = Form(""),
    client_key: str = Form(""),
) -> Response:
    return _act(
        session,
        handoff_id,
        lambda h: service.reply(
            session,
            handoff=h,
            counsellor=user.counsellor,
            text=text,
            rasa=rasa,
            client_key=client_key[:64] or None,
        ),
        "sent",
    )


@router.post("/handoffs/{handoff_id}/notes")
def note_form(
    handoff_id: RowId,
    session: SessionDep,
    user: CsrfUser,
    text: str = Form(""),
) -> Response:
    return _act(
        session,
        handoff_id,
        lambda h: service.add_note(session, handoff=h, counsellor=user.counsellor, text=text),
        "noted",
    )


@router.post("/handoffs/{handoff_id}/resolve")
def resolve_form(
    handoff_id: RowId,
    session: SessionDep,
    user: CsrfUser,
    rasa: RasaDep,
    outcome: str = Form(...),
    hand_back: str = Form(""),
) -> Response:
    return _act(
        session,
        handoff_id,
        lambda h: service.resolve(
            session,
            handoff=h,
            counsellor=user.counsellor,
            outcome=outcome,
            hand_back=bool(hand_back),
            rasa=rasa,
        ),
        "resolved",
    )
