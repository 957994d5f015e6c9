"""JSON API schemas (pydantic 1.10, as Rasa 3.6 requires)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bot.handoffs.service import OUTCOMES

# The outcomes a request can be closed with (bot/handoffs/service.py says which).
Outcome = Literal[OUTCOMES]  # type: ignore[valid-type]


class LoginIn(BaseModel):
    username: str = Field(..., max_length=64)
    password: str = Field(..., max_length=256)


class SessionOut(BaseModel):
    username: str
    display_name: str | None
    role: str
    csrf_token: str
    expires_at: datetime


class HandoffOut(BaseModel):
    id: int
    person_id: str
    channel: str
    language: str | None
    priority: str
    reason: str
    status: str
    created_at: datetime
    claimed_at: datetime | None
    claimed_by: str | None
    resolved_at: datetime | None
    outcome: str | None
    handed_back: bool | None
    waiting_seconds: int
    profile: dict[str, object]
    suggested_programs: list[str]
    tier: str  # danger | check_in | alert | human | counsellor (what raised the request)
    category: str | None  # suicide | self_harm | sexual_abuse | violence_home | violence_outside
    excerpt: str | None  # the person's message that raised it


class HandoffList(BaseModel):
    data: list[HandoffOut]
    count: int


class MessageOut(BaseModel):
    at: datetime
    author: str  # person | bot | counsellor | system
    text: str | None
    media: list[dict] | None
    status: str | None
    counsellor: str | None


class NoteOut(BaseModel):
    id: int
    text: str
    counsellor: str
    created_at: datetime


class HandoffDetail(HandoffOut):
    messages: list[MessageOut]
    notes: list[NoteOut]
    earlier_handoffs: list[HandoffOut]


class TextIn(BaseModel):
    text: str = Field(..., max_length=4000)
    client_key: str | None = Field(
        None, max_length=64, description="Same key twice sends one message (double submits)."
    )


class MessageQueued(BaseModel):
    id: int
    status: str


class ResolveIn(BaseModel):
    outcome: Outcome
    hand_back: bool = True


class Detail(BaseModel):
    detail: str
