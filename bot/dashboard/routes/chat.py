"""The local web chat: how a newcomer, a counsellor or a funder tries Bousla without WhatsApp."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.dashboard.templating import templates
from bot.settings import get_settings

router = APIRouter(tags=["chat"])


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request) -> HTMLResponse:
    # The browser talks to Rasa's REST channel on the same host name (CORS is enabled).
    return templates.TemplateResponse(request, "chat.html", {"rasa_port": get_settings().rasa_port})
