"""The dashboard's only way to steer the bot: Rasa's HTTP API (token from the settings).

- `pause`: the bot stays silent while a counsellor holds the conversation; the person's
  messages still reach the tracker and the inbox.
- `hand_back`: resume, run `utter_handed_back` (rendered by Rasa in the person's language,
  returned to us because no output channel is named), then close the turn with
  `action_listen` so the person's next message is handled like any other.
The messages returned are delivered by the caller through the outbox (`enqueue_message`).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import httpx
import jwt

from bot.settings import get_settings

logger = logging.getLogger(__name__)

HANDED_BACK_RESPONSE = "utter_handed_back"


class RasaUnavailable(RuntimeError):
    """Rasa did not answer or refused; the message says so in French for the counsellor."""


class RasaClient:
    def __init__(self, base_url: str, token: str, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _post(self, conversation_id: str, path: str, payload: object) -> dict:
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{path}"
        try:
            response = httpx.post(
                url,
                params={"include_events": "NONE"},
                headers=rasa_api_headers(self.token),
                json=payload,
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            logger.warning("Rasa API %s failed: %s", path, error)
            raise RasaUnavailable(
                "Le bot ne répond pas (serveur Rasa injoignable) ; réessaie dans un instant."
            ) from None
        if response.status_code >= 400:
            logger.warning("Rasa API %s: HTTP %s %s", path, response.status_code, response.text)
            raise RasaUnavailable(
                f"Le bot a refusé l'opération (Rasa HTTP {response.status_code})."
            )
        return response.json() if response.content else {}

    def pause(self, conversation_id: str) -> None:
        self._post(conversation_id, "tracker/events", [{"event": "pause"}])

    def resume(self, conversation_id: str) -> None:
        """The bot answers again; the request is over, so the person's messages are no
        longer for a counsellor (slot `handoff_open`, bot/nlu/conversation.py)."""
        self._post(
            conversation_id,
            "tracker/events",
            [{"event": "resume"}, {"event": "slot", "name": "handoff_open", "value": None}],
        )

    def hand_back(self, conversation_id: str, *, with_message: bool = True) -> list[dict]:
        """Resume the bot; returns the messages to send to the person (maybe none)."""
        self.resume(conversation_id)
        messages: list[dict] = []
        if with_message:
            result = self._post(conversation_id, "execute", {"name": HANDED_BACK_RESPONSE})
            messages = list(result.get("messages") or [])
        self._post(
            conversation_id, "tracker/events", [{"event": "action", "name": "action_listen"}]
        )
        return messages


def rasa_api_headers(secret: str) -> dict[str, str]:
    """Authorization for Rasa's HTTP API: a token signed with the API secret (HS256), valid
    for a minute, in a header (never in a query string, which logs keep)."""
    token = jwt.encode(
        {"user": {"username": "bousla", "role": "admin"}, "exp": int(time.time()) + 60},
        secret,
        algorithm="HS256",
    )
    return {"Authorization": f"Bearer {token}"}


def rasa_client() -> RasaClient:
    settings = get_settings()
    return RasaClient(settings.rasa_base_url, settings.rasa_api_token)
