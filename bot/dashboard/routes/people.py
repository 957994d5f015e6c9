"""Recent conversations: reading one (read-only: the bot keeps answering), and taking one
over on a counsellor's own initiative (a separate, explicit action)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.channels.outbound import transcript
from bot.dashboard.deps import CsrfUser, PageUser, PersonId, RasaDep, SessionDep
from bot.dashboard.routes.inbox import DELIVERY, transcript_entry
from bot.dashboard.templating import render
from bot.handoffs import service, views
from bot.storage.audit import record
from bot.storage.models import Person

TRANSCRIPT_LIMIT = 300

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(
        request, "people.html", {"active": "people", "people": views.recent_people(session)}
    )


@router.post("/people/{person_id}/takeover")
def takeover_form(
    person_id: PersonId, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> Response:
    handoff = service.takeover(session, person_id=person_id, counsellor=user.counsellor, rasa=rasa)
    return RedirectResponse(f"/handoffs/{handoff.id}?done=taken", status_code=303)


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    person_id: PersonId, request: Request, session: SessionDep, user: PageUser
) -> HTMLResponse:
    """A conversation, read-only: nothing changes for the person, the bot stays active."""
    person = session.get(Person, person_id)
    if person is None:
        context = {
            "title": "Action impossible",
            "message": "Personne introuvable.",
            "back": "/people",
        }
        return render(request, "error.html", context, status_code=404)
    # Reading a conversation is access to personal data: it goes in the audit log.
    record(
        session,
        actor=user.counsellor.username,
        action="conversation_viewed",
        target_type="person",
        target_id=person.id,
    )
    names = views.counsellor_names(session)
    entries = [
        transcript_entry(entry, names)
        for entry in transcript(session, person_id=person.id)[-TRANSCRIPT_LIMIT:]
    ]
    active = service.active_handoff(session, person_id=person.id)
    context = {
        "active": "people",
        "person": person,
        "entries": entries,
        "delivery": DELIVERY,
        "active_handoff": active,
    }
    return render(request, "person.html", context)
