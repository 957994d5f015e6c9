"""JSON API of the inbox (`/api/handoffs`), used by scripts and tests; the pages share its
operations (`bot.handoffs`). A refused operation (404, 409, 503) is answered by the app's
exception handlers, after the session dependency rolled it back."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from bot.dashboard.deps import CsrfUser, CurrentUser, PersonId, RasaDep, RowId, SessionDep
from bot.dashboard.schemas import (
    Detail,
    HandoffDetail,
    HandoffList,
    HandoffOut,
    MessageOut,
    MessageQueued,
    NoteOut,
    ResolveIn,
    TextIn,
)
from bot.handoffs import service, views
from bot.storage.models import Handoff

router = APIRouter(prefix="/api", tags=["handoffs"])
ERRORS = {
    401: {"model": Detail},
    403: {"model": Detail},
    404: {"model": Detail},
    409: {"model": Detail},
    503: {"model": Detail},
}


def handoff_out(view: views.HandoffView) -> HandoffOut:
    return HandoffOut(**view.as_dict())


def detail_out(session, handoff: Handoff) -> HandoffDetail:
    names = views.counsellor_names(session)
    view = views.handoff_view(session, handoff=handoff)
    return HandoffDetail(
        **view.as_dict(),
        messages=[
            MessageOut(
                at=entry.at,
                author=entry.author,
                text=entry.text,
                media=entry.media,
                status=entry.status,
                counsellor=names.get(entry.counsellor_id) if entry.counsellor_id else None,
            )
            for entry in views.conversation(session, handoff=handoff)
        ],
        notes=[
            NoteOut(id=note.id, text=note.text, counsellor=name, created_at=note.created_at)
            for note, name in views.notes_of(session, handoff=handoff)
        ],
        earlier_handoffs=[handoff_out(v) for v in views.earlier_handoffs(session, handoff=handoff)],
    )


@router.get("/handoffs", response_model=HandoffList, responses=ERRORS)
def list_handoffs(
    session: SessionDep,
    user: CurrentUser,
    status: Literal["open", "claimed", "resolved", "cancelled"] | None = None,
) -> HandoffList:
    """Requests: by default open and claimed ones, urgent first, then longest wait."""
    found = views.list_handoffs(session, status=status)
    return HandoffList(data=[handoff_out(v) for v in found], count=len(found))


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail, responses=ERRORS)
def get_handoff(handoff_id: RowId, session: SessionDep, user: CurrentUser) -> HandoffDetail:
    """A request with the person's conversation, private notes and earlier requests."""
    handoff = service.get_handoff(session, handoff_id=handoff_id)
    service.record_view(session, handoff=handoff, counsellor=user.counsellor)
    return detail_out(session, handoff)


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffOut, responses=ERRORS)
def claim(handoff_id: RowId, session: SessionDep, user: CsrfUser, rasa: RasaDep) -> HandoffOut:
    """Take the request: the bot stays silent for this person until the hand-back."""
    handoff = service.get_handoff(session, handoff_id=handoff_id)
    service.claim(session, handoff=handoff, counsellor=user.counsellor, rasa=rasa)
    return handoff_out(views.handoff_view(session, handoff=handoff))


@router.post(
    "/handoffs/{handoff_id}/messages",
    response_model=MessageQueued,
    status_code=201,
    responses=ERRORS,
)
def send_message(
    handoff_id: RowId, body: TextIn, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> MessageQueued:
    """Reply on the person's channel (queued in the outbox; takes the request if open).
    A resolved or cancelled request answers 409."""
    handoff = service.get_handoff(session, handoff_id=handoff_id)
    message = service.reply(
        session,
        handoff=handoff,
        counsellor=user.counsellor,
        text=body.text,
        rasa=rasa,
        client_key=body.client_key,
    )
    return MessageQueued(id=message.id, status=message.status)


@router.post(
    "/handoffs/{handoff_id}/notes", response_model=NoteOut, status_code=201, responses=ERRORS
)
def add_note(handoff_id: RowId, body: TextIn, session: SessionDep, user: CsrfUser) -> NoteOut:
    """A private note for colleagues (never sent to the person)."""
    handoff = service.get_handoff(session, handoff_id=handoff_id)
    note = service.add_note(session, handoff=handoff, counsellor=user.counsellor, text=body.text)
    name = user.counsellor.display_name or user.counsellor.username
    return NoteOut(id=note.id, text=note.text, counsellor=name, created_at=note.created_at)


@router.post("/handoffs/{handoff_id}/resolve", response_model=HandoffOut, responses=ERRORS)
def resolve(
    handoff_id: RowId, body: ResolveIn, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> HandoffOut:
    """Close with an outcome; the bot resumes (with a short message in the person's
    language when `hand_back` is true)."""
    handoff = service.get_handoff(session, handoff_id=handoff_id)
    service.resolve(
        session,
        handoff=handoff,
        counsellor=user.counsellor,
        outcome=body.outcome,
        hand_back=body.hand_back,
        rasa=rasa,
    )
    return handoff_out(views.handoff_view(session, handoff=handoff))


@router.post("/people/{person_id}/takeover", response_model=HandoffOut, responses=ERRORS)
def take_over(
    person_id: PersonId, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> HandoffOut:
    """Take any conversation, even without a request: the bot goes silent for it."""
    handoff = service.takeover(session, person_id=person_id, counsellor=user.counsellor, rasa=rasa)
    return handoff_out(views.handoff_view(session, handoff=handoff))
