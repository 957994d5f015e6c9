"""Helpers for dashboard tests: accounts, a recording stand-in for Rasa's HTTP API,
people with messages and requests written the way the channels and actions write them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher

from bot.dashboard import security
from bot.dashboard.accounts import create_counsellor
from bot.dashboard.rasa_api import RasaUnavailable
from bot.handoffs.service import request_handoff
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, utcnow
from bot.storage.people import ensure_person

PASSWORD = "correct horse battery"
HANDED_BACK_TEXT = "Le conseiller a terminé 🙏"
_ids = itertools.count(1)


@pytest.fixture
def fast_password_hashing(monkeypatch):
    """Argon2 with test-sized costs: the real parameters take ~1 s a hash on a busy CI."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", hasher)
    monkeypatch.setattr(security, "_DUMMY_HASH", hasher.hash("bousla-dummy-password"))


@dataclass
class FakeRasa:
    """Records what the dashboard asks of Rasa; `down=True` simulates an unreachable Rasa."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False

    def _call(self, name: str, conversation_id: str) -> None:
        if self.down:
            raise RasaUnavailable("Le bot ne répond pas (serveur Rasa injoignable).")
        self.calls.append((name, conversation_id))

    def pause(self, conversation_id: str) -> None:
        self._call("pause", conversation_id)

    def resume(self, conversation_id: str) -> None:
        self._call("resume", conversation_id)

    def hand_back(self, conversation_id: str, *, with_message: bool = True) -> list[dict]:
        self._call("hand_back" if with_message else "resume_silently", conversation_id)
        return [{"recipient_id": conversation_id, "text": HANDED_BACK_TEXT}] if with_message else []


def add_account(username: str = "amina", role: str = "counsellor", password: str = PASSWORD):
    with session_scope() as session:
        counsellor = create_counsellor(
            session,
            username=username,
            password=password,
            role=role,
            display_name=username.capitalize(),
        )
        return counsellor.id


def person_writes(
    person_id: str, text: str, *, channel: str = "whatsapp", language: str = "fr"
) -> int:
    """An inbound message as the channel stores it (before Rasa sees it)."""
    with session_scope() as session:
        ensure_person(
            session,
            person_id=person_id,
            channel=channel,
            address="+212600000000",
            language=language,
        )
        message = InboundMessage(
            channel=channel,
            provider_message_id=f"SM{next(_ids):06d}",
            person_id=person_id,
            text=text,
            received_at=utcnow(),
            status="done",
        )
        session.add(message)
        session.flush()
        return message.id


def request_for(
    person_id: str,
    *,
    reason: str = "ask_human",
    channel: str = "whatsapp",
    language: str = "fr",
    text: str | None = "je veux parler à quelqu'un",
) -> int:
    """A queued request, as action_request_human leaves it."""
    if text:
        person_writes(person_id, text, channel=channel, language=language)
    with session_scope() as session:
        handoff = request_handoff(
            session, person_id=person_id, channel=channel, language=language, reason=reason
        )
        return handoff.id
