"""Recent conversations, and taking one over on a counsellor's own initiative."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.dashboard.deps import CsrfUser, PageUser, PersonId, RasaDep, SessionDep
from bot.dashboard.templating import render
from bot.handoffs import service, views

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
