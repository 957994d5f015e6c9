"""JSON API of the inbox (`/api/handoffs`), used by scripts and tests; the pages share
its operations (`bot.dashboard.inbox`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException

from bot.dashboard import inbox
from bot.dashboard.deps import CsrfUser, CurrentUser, PersonId, RasaDep, RowId, SessionDep
from bot.dashboard.rasa_api import RasaUnavailable
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
from bot.storage.models import Handoff

router = APIRouter(prefix="/api", tags=["handoffs"])
ERRORS = {
    401: {"model": Detail},
    403: {"model": Detail},
    404: {"model": Detail},
    409: {"model": Detail},
    503: {"model": Detail},
}


def fail(error: Exception) -> HTTPException:
    if isinstance(error, inbox.InboxError):
        return HTTPException(status_code=error.status_code, detail=error.message)
    if isinstance(error, RasaUnavailable):
        return HTTPException(status_code=503, detail=str(error))
    raise error


def _handoff(session, handoff_id: RowId) -> Handoff:
    try:
        return inbox.get_handoff(session, handoff_id=handoff_id)
    except inbox.InboxError as error:
        raise fail(error) from None


def handoff_out(view: inbox.HandoffView) -> HandoffOut:
    return HandoffOut(**view.as_dict())


def detail_out(session, handoff: Handoff) -> HandoffDetail:
    names = inbox.counsellor_names(session)
    view = inbox.handoff_view(session, handoff=handoff)
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
            for entry in inbox.conversation(session, handoff=handoff)
        ],
        notes=[
            NoteOut(id=note.id, text=note.text, counsellor=name, created_at=note.created_at)
            for note, name in inbox.notes_of(session, handoff=handoff)
        ],
        earlier_handoffs=[handoff_out(v) for v in inbox.earlier_handoffs(session, handoff=handoff)],
    )


@router.get("/handoffs", response_model=HandoffList, responses=ERRORS)
def list_handoffs(
    session: SessionDep,
    user: CurrentUser,
    status: Literal["open", "claimed", "resolved", "cancelled"] | None = None,
) -> HandoffList:
    """Requests: by default open and claimed ones, urgent first, then longest wait."""
    views = inbox.list_handoffs(session, status=status)
    return HandoffList(data=[handoff_out(v) for v in views], count=len(views))


@router.get("/handoffs/{handoff_id}", response_model=HandoffDetail, responses=ERRORS)
def get_handoff(handoff_id: RowId, session: SessionDep, user: CurrentUser) -> HandoffDetail:
    """A request with the person's conversation, private notes and earlier requests."""
    handoff = _handoff(session, handoff_id)
    inbox.record_view(session, handoff=handoff, counsellor=user.counsellor)
    session.commit()
    return detail_out(session, handoff)


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffOut, responses=ERRORS)
def claim(handoff_id: RowId, session: SessionDep, user: CsrfUser, rasa: RasaDep) -> HandoffOut:
    """Take the request: the bot stays silent for this person until the hand-back."""
    handoff = _handoff(session, handoff_id)
    try:
        inbox.claim(session, handoff=handoff, counsellor=user.counsellor, rasa=rasa)
    except (inbox.InboxError, RasaUnavailable) as error:
        session.rollback()
        raise fail(error) from None
    session.commit()
    return handoff_out(inbox.handoff_view(session, handoff=handoff))


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
    handoff = _handoff(session, handoff_id)
    try:
        message = inbox.reply(
            session,
            handoff=handoff,
            counsellor=user.counsellor,
            text=body.text,
            rasa=rasa,
            client_key=body.client_key,
        )
    except (inbox.InboxError, RasaUnavailable) as error:
        session.rollback()
        raise fail(error) from None
    session.commit()
    return MessageQueued(id=message.id, status=message.status)


@router.post(
    "/handoffs/{handoff_id}/notes", response_model=NoteOut, status_code=201, responses=ERRORS
)
def add_note(handoff_id: RowId, body: TextIn, session: SessionDep, user: CsrfUser) -> NoteOut:
    """A private note for colleagues (never sent to the person)."""
    handoff = _handoff(session, handoff_id)
    try:
        note = inbox.add_note(session, handoff=handoff, counsellor=user.counsellor, text=body.text)
    except inbox.InboxError as error:
        session.rollback()
        raise fail(error) from None
    session.commit()
    name = user.counsellor.display_name or user.counsellor.username
    return NoteOut(id=note.id, text=note.text, counsellor=name, created_at=note.created_at)


@router.post("/handoffs/{handoff_id}/resolve", response_model=HandoffOut, responses=ERRORS)
def resolve(
    handoff_id: RowId, body: ResolveIn, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> HandoffOut:
    """Close with an outcome; the bot resumes (with a short message in the person's
    language when `hand_back` is true)."""
    handoff = _handoff(session, handoff_id)
    try:
        inbox.resolve(
            session,
            handoff=handoff,
            counsellor=user.counsellor,
            outcome=body.outcome,
            hand_back=body.hand_back,
            rasa=rasa,
        )
    except (inbox.InboxError, RasaUnavailable) as error:
        session.rollback()
        raise fail(error) from None
    session.commit()
    return handoff_out(inbox.handoff_view(session, handoff=handoff))


@router.post("/people/{person_id}/takeover", response_model=HandoffOut, responses=ERRORS)
def take_over(
    person_id: PersonId, session: SessionDep, user: CsrfUser, rasa: RasaDep
) -> HandoffOut:
    """Take any conversation, even without a request: the bot goes silent for it."""
    try:
        handoff = inbox.takeover(
            session, person_id=person_id, counsellor=user.counsellor, rasa=rasa
        )
    except (inbox.InboxError, RasaUnavailable) as error:
        session.rollback()
        raise fail(error) from None
    session.commit()
    return handoff_out(inbox.handoff_view(session, handoff=handoff))
