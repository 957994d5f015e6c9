"""Recent conversations, and taking one over on a counsellor's own initiative."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard import inbox
from bot.dashboard.deps import CsrfUser, PageUser, PersonId, RasaDep, SessionDep
from bot.dashboard.rasa_api import RasaUnavailable
from bot.dashboard.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return render(
        request, "people.html", {"active": "people", "people": inbox.recent_people(session)}
    )


@router.post("/people/{person_id}/takeover")
def takeover_form(
    person_id: PersonId, request: Request, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> Response:
    try:
        handoff = inbox.takeover(
            session, person_id=person_id, counsellor=user.counsellor, rasa=rasa
        )
    except (inbox.InboxError, RasaUnavailable) as error:
        session.rollback()
        status = error.status_code if isinstance(error, inbox.InboxError) else 503
        message = error.message if isinstance(error, inbox.InboxError) else str(error)
        return render(
            request,
            "error.html",
            {"title": "Action impossible", "message": message, "back": "/people"},
            status_code=status,
        )
    session.commit()
    return RedirectResponse(f"/handoffs/{handoff.id}?done=taken", status_code=303)
