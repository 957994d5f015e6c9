"""The real stack (trained model, Rasa, action server, dashboard): distress in the three
scripts reaches the queue as urgent with the emergency contacts sent; the bot stays silent
while a counsellor holds the conversation; the hand-back through Rasa's HTTP API sends a
message in the person's language and the bot answers the next message.

The person writes through Rasa's REST channel in the first tests; the last one is the whole
counsellor's flow in Debian's Chromium over WhatsApp (signed webhooks, inbox, outbox worker,
the local fake Twilio API).

The stack is the one shared with the language and privacy tests (tests/stack_support.py):
every test reads back only its own senders' requests and messages.
"""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.channels.identity import pseudonym
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack
from bot.report.labels import short_id
from bot.storage.db import build_engine
from bot.storage.models import Handoff, OutboundMessage
from tests.browser_support import browser, requires_chromium, screenshot  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.background("shared stack")]
PASSWORD = "stack-password-123"


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(f"{response}/{language}")


@pytest.fixture(scope="module")
def twilio(shared_stack) -> FakeTwilioAPI:
    return shared_stack.twilio


@pytest.fixture(scope="module")
def stack(shared_stack) -> Stack:
    return shared_stack.stack


def add_counsellor(stack: Stack, username: str) -> None:
    env = {**stack.env(), "PYTHONPATH": str(PROJECT_ROOT)}
    created = subprocess.run(
        [sys.executable, "-m", "bot.cli", "user", "add", username, "--role", "counsellor",
         "--password-stdin"],
        input=PASSWORD + "\n", env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


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
    add_counsellor(stack, "salma")

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


PHONE = "whatsapp:+212600112233"


def whatsapp_says(stack: Stack, twilio: FakeTwilioAPI, body: str) -> None:
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = whatsapp_webhook_form(from_number=PHONE, body=body, account_sid=twilio.account_sid)
    response = httpx.post(
        url, data=form, headers=signed_headers(twilio.auth_token, url, form), timeout=10
    )
    assert response.status_code == 200, response.text


def bodies(twilio: FakeTwilioAPI) -> list[str]:
    return [m["Body"] for m in twilio.sent_to(PHONE)]


def wait_for_bodies(twilio: FakeTwilioAPI, count: int) -> list[str]:
    assert twilio.wait_until(lambda: len(twilio.sent_to(PHONE)) >= count, timeout=60), bodies(
        twilio
    )
    return bodies(twilio)


@requires_chromium
def test_a_whatsapp_request_handled_in_chromium_from_login_to_hand_back(
    stack,
    twilio,
    domain,
    browser,  # noqa: F811 - the fixture
):
    add_counsellor(stack, "karim")
    whatsapp_says(stack, twilio, "salam")  # consent notice, greeting, menu
    seen = len(wait_for_bodies(twilio, 3))

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{stack.dashboard_url}/login")
    page.fill("input[name=username]", "karim")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{stack.dashboard_url}/")
    page.wait_for_selector("body[data-live=on]")

    # The request comes in on WhatsApp while the queue is open: it appears without reloading.
    whatsapp_says(stack, twilio, "bghit nhder m3a chi moustachar")
    queued = variant(domain, "utter_handoff_queued", "ary_latn")
    # WhatsApp has no buttons: the "cancel my request" button follows as a numbered option.
    assert any(body.startswith(queued) for body in wait_for_bodies(twilio, seen + 1)[seen:])
    handoff = handoffs(stack)[pseudonym("whatsapp", PHONE)]
    assert handoff.channel == "whatsapp"
    item = page.wait_for_selector(f"[data-handoff-id='{handoff.id}']", timeout=10000)
    assert "WhatsApp" in item.inner_text() and "Darija (latin)" in item.inner_text()
    # The person is told apart by a piece of the pseudonym, never by the phone number.
    label = f"#{short_id(handoff.person_id)}"
    assert len(label) == 9 and label != "#whatsapp" and label in item.inner_text()
    assert "600112233" not in page.content()
    screenshot(page, "stack-01-queue-whatsapp")

    page.click(f"[data-handoff-id='{handoff.id}'] a")
    page.click("#claim-form button")
    page.wait_for_selector("text=Demande prise")

    # While the counsellor holds it, the person's message lands in the transcript, live,
    # and the bot says nothing.
    page.wait_for_selector("body[data-live=on]")
    seen = len(bodies(twilio))
    whatsapp_says(stack, twilio, "wach kayn chi wa7ed m3aya?")
    page.wait_for_selector("#transcript >> text=wach kayn chi wa7ed m3aya?", timeout=10000)

    page.fill("#reply-text", "Salam, ana Karim men lmarkaz. Ana m3ak.")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Message envoyé")
    assert wait_for_bodies(twilio, seen + 1)[seen:] == ["Salam, ana Karim men lmarkaz. Ana m3ak."]

    page.fill("#note-text", "Veut une formation courte en cuisine.")
    page.click("#note-form button")
    page.wait_for_selector("#notes >> text=formation courte")
    screenshot(page, "stack-02-conversation-whatsapp")

    page.select_option("select[name=outcome]", "listening_only")
    assert page.is_checked("input[name=hand_back]")
    page.click("#resolve-form button")
    page.wait_for_selector("text=Demande résolue")
    handed_back = variant(domain, "utter_handed_back", "ary_latn")
    assert wait_for_bodies(twilio, seen + 2)[seen + 1] == handed_back
    page.wait_for_selector(f".msg.bot >> text={handed_back}", timeout=10000)
    screenshot(page, "stack-03-handed-back-whatsapp")
    context.close()

    # Back with the bot: the person's next message gets the bot's answer on WhatsApp.
    time.sleep(1)
    assert len(bodies(twilio)) == seen + 2, bodies(twilio)[seen:]  # bot silent while held
    whatsapp_says(stack, twilio, "salam")
    assert (
        variant(domain, "utter_greet", "ary_latn") in wait_for_bodies(twilio, seen + 3)[seen + 2 :]
    )
    assert handoffs(stack)[handoff.person_id].status == "resolved"
