"""The real stack (trained model, Rasa, action server, dashboard): distress in the three
scripts reaches the queue as urgent with the emergency contacts sent; the bot stays silent
while a counsellor holds the conversation; the hand-back through Rasa's HTTP API sends a
message in the person's language and the bot answers the next message.

The person writes through Rasa's REST channel here. The same flow over WhatsApp (webhook,
outbox worker, local fake Twilio) needs the channels' package (not merged yet).
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.localstack import Stack
from bot.storage.db import build_engine
from bot.storage.models import Handoff, OutboundMessage

pytestmark = pytest.mark.slow
PASSWORD = "stack-password-123"


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(f"{response}/{language}")


@pytest.fixture(scope="module")
def stack(trained_model, tmp_path_factory):
    started = Stack(var_dir=tmp_path_factory.mktemp("handoff-stack") / "var").start()
    yield started
    started.stop()


def texts(replies: list[dict]) -> list[str]:
    return [reply.get("text") or "" for reply in replies]


def handoffs(stack: Stack) -> dict[str, Handoff]:
    engine = build_engine(f"sqlite:///{stack.var_dir / 'bousla.db'}")
    with engine.connect() as connection:
        rows = connection.execute(select(Handoff)).all()
    engine.dispose()
    return {row.person_id: row for row in rows}


@pytest.mark.parametrize(
    ("sender", "message", "language", "number_label"),
    [
        ("stack-fr", "Je n'en peux plus, je veux mourir", "fr", "📞 19 — Police"),
        ("stack-ary", "والله بغيت نقتل راسي", "ary", "📞 19 — البوليس"),
        ("stack-latn", "salam, bghit n9tel rassi", "ary_latn", "📞 19 — Police"),
    ],
)
def test_distress_in_each_script_is_urgent_with_contacts_then_the_bot_is_silent(
    stack, domain, sender, message, language, number_label
):
    replies = texts(stack.say(sender, message))
    contacts = next((t for t in replies if "📞 15" in t), None)
    assert contacts is not None, replies
    assert number_label in contacts and "📞 112" in contacts
    assert variant(domain, "utter_distress_counsellor", language) in replies

    handoff = handoffs(stack)[sender]
    assert (handoff.reason, handoff.priority, handoff.status, handoff.language) == (
        "distress",
        "urgent",
        "open",
        language,
    )
    # Paused: the next message is kept in the tracker but the bot says nothing.
    assert stack.say(sender, "allo ?") == []


def test_request_then_cancel(stack, domain):
    replies = texts(stack.say("stack-cancel", "je veux parler à un conseiller"))
    assert variant(domain, "utter_handoff_queued", "fr") in replies
    assert handoffs(stack)["stack-cancel"].status == "open"
    replies = texts(stack.say("stack-cancel", "/cancel"))
    assert variant(domain, "utter_handoff_cancelled", "fr") in replies
    assert handoffs(stack)["stack-cancel"].status == "cancelled"


def test_counsellor_takes_the_conversation_and_hands_it_back(stack, domain):
    env = {**stack.env(), "PYTHONPATH": str(PROJECT_ROOT)}
    created = subprocess.run(
        [sys.executable, "-m", "bot.cli", "user", "add", "salma", "--role", "counsellor",
         "--password-stdin"],
        input=PASSWORD + "\n", env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    stack.say("stack-human", "salam")  # consent notice, greeting, menu
    replies = texts(stack.say("stack-human", "bghit nhder m3a chi moustachar"))
    assert variant(domain, "utter_handoff_queued", "ary_latn") in replies

    with httpx.Client(base_url=stack.dashboard_url, timeout=30) as dashboard:
        login = dashboard.post("/api/session", json={"username": "salma", "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        handoff_id = handoffs(stack)["stack-human"].id
        claimed = dashboard.post(f"/api/handoffs/{handoff_id}/claim", headers=csrf)
        assert claimed.status_code == 200, claimed.text

        # While the counsellor holds it, the bot does not answer.
        assert stack.say("stack-human", "wach kayn chi wa7ed?") == []
        sent = dashboard.post(
            f"/api/handoffs/{handoff_id}/messages", json={"text": "Salam, ana hna."}, headers=csrf
        )
        assert sent.status_code == 201

        resolved = dashboard.post(
            f"/api/handoffs/{handoff_id}/resolve",
            json={"outcome": "listening_only", "hand_back": True},
            headers=csrf,
        )
        assert resolved.status_code == 200, resolved.text

    engine = build_engine(f"sqlite:///{stack.var_dir / 'bousla.db'}")
    with engine.connect() as connection:
        outbox = connection.execute(
            select(OutboundMessage.author, OutboundMessage.text)
            .where(OutboundMessage.person_id == "stack-human")
            .order_by(OutboundMessage.id)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in outbox] == [
        ("counsellor", "Salam, ana hna."),
        ("bot", variant(domain, "utter_handed_back", "ary_latn")),
    ]
    # Back with the bot: the next message gets an answer again.
    replies = texts(stack.say("stack-human", "salam"))
    assert variant(domain, "utter_greet", "ary_latn") in replies
