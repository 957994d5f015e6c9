"""The safety net on the real stack over WhatsApp (signed webhooks, inbox, outbox worker,
the local fake Twilio API, the trained model): each tier, small words after a hand-back,
and the action server killed in the middle of a conversation.

The action server runs apart from `bousla run` here (ACTION_SERVER_URL points at it), so
that the test can kill it while Rasa and the dashboard keep running. This module's stack is
its own (it ends with a dead action server), started in the background (tests/background.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.channels.identity import pseudonym
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack, free_port
from bot.storage.db import build_engine
from bot.storage.models import AuditEntry, Handoff
from tests import background
from tests.stack_support import ensure_model, fake_twilio, twilio_env
from tests.test_handoff_stack import PASSWORD, add_counsellor, variant

pytestmark = [pytest.mark.slow, pytest.mark.background("safety stack")]


@background.job("safety stack")
def start_safety_stack(context: background.Context) -> Stack:
    ensure_model(context.settings.models_dir)
    twilio = fake_twilio(context)
    actions_port = free_port()
    env = {
        **twilio_env(twilio),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{actions_port}",
        "BOUSLA_RETRY_BASE_SECONDS": "0.2",
    }
    var_dir = context.mktemp("safety-stack") / "var"
    stack = Stack(var_dir=var_dir, extra_env=env, environ=context.environ)
    var_dir.mkdir(parents=True, exist_ok=True)
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions", "-p", str(actions_port)],
        cwd=PROJECT_ROOT,
        env={**stack.env(), "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=(var_dir / "actions.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def stop() -> None:
        stack.stop()
        if actions.poll() is None:
            os.killpg(actions.pid, signal.SIGKILL)

    context.cleanup(stop)
    started = stack.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{actions_port}/health", timeout=2).status_code == 200:
                break
        time.sleep(1)
    started.separate_actions = actions  # type: ignore[attr-defined]
    started.twilio = twilio  # type: ignore[attr-defined]
    started.stop_all = stop  # type: ignore[attr-defined]
    return started


@pytest.fixture(scope="module")
def stack():
    started = background.result("safety stack")
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def twilio(stack) -> FakeTwilioAPI:
    return stack.twilio


def say(stack: Stack, twilio: FakeTwilioAPI, phone: str, body: str) -> None:
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = whatsapp_webhook_form(from_number=phone, body=body, account_sid=twilio.account_sid)
    response = httpx.post(
        url, data=form, headers=signed_headers(twilio.auth_token, url, form), timeout=10
    )
    assert response.status_code == 200, response.text


def bodies(twilio: FakeTwilioAPI, phone: str) -> list[str]:
    return [m["Body"] for m in twilio.sent_to(phone)]


def replies_to(
    stack: Stack, twilio: FakeTwilioAPI, phone: str, body: str, count: int, settle: float = 1.5
) -> list[str]:
    """The messages sent to `phone` after it wrote `body` (at least `count`)."""
    seen = len(bodies(twilio, phone))
    say(stack, twilio, phone, body)
    assert twilio.wait_until(lambda: len(twilio.sent_to(phone)) >= seen + count, timeout=60), (
        bodies(twilio, phone)[seen:],
        stack.log()[-3000:],
    )
    time.sleep(settle)  # anything more that was coming
    return bodies(twilio, phone)[seen:]


def silence_after(stack: Stack, twilio: FakeTwilioAPI, phone: str, body: str) -> list[str]:
    seen = len(bodies(twilio, phone))
    say(stack, twilio, phone, body)
    time.sleep(6)
    return bodies(twilio, phone)[seen:]


def requests_of(stack: Stack, phone_fragment: str | None = None) -> list[Handoff]:
    engine = build_engine(f"sqlite:///{stack.var_dir / 'bousla.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(Handoff).where(Handoff.channel == "whatsapp").order_by(Handoff.id)
        ).all()
    engine.dispose()
    return list(rows)


def person_of(stack: Stack, twilio: FakeTwilioAPI, phone: str) -> str:
    """The pseudonym of a WhatsApp number (what handoffs are keyed by)."""
    return pseudonym("whatsapp", phone)


def person_requests(stack: Stack, person_id: str) -> list[Handoff]:
    return [h for h in requests_of(stack) if h.person_id == person_id]


def start(stack: Stack, twilio: FakeTwilioAPI, phone: str) -> None:
    replies_to(stack, twilio, phone, "salam", 3)  # consent notice, greeting, menu


def test_danger_gets_the_contacts_and_an_urgent_request_at_once(stack, twilio, domain):
    phone = "whatsapp:+212600000101"
    start(stack, twilio, phone)
    sent = replies_to(stack, twilio, phone, "wallah bghit n9tel rassi had lila", 2)
    contacts = next((b for b in sent if "📞 19" in b), None)
    assert contacts is not None and "📞 15" in contacts and "📞 112" in contacts, sent
    assert variant(domain, "utter_distress_counsellor", "ary_latn") in sent
    [request] = person_requests(stack, person_of(stack, twilio, phone))
    assert (request.reason, request.priority, request.status) == ("distress", "urgent", "open")


def test_a_weak_signal_gets_a_gentle_check_in_and_yes_is_urgent(stack, twilio, domain):
    phone = "whatsapp:+212600000102"
    start(stack, twilio, phone)
    sent = replies_to(stack, twilio, phone, "kolchi k7el had l2ayam", 1)
    question = variant(domain, "utter_safety_check_in", "ary_latn")
    assert any(b.startswith(question) for b in sent), sent
    assert not any("📞" in b for b in sent), sent  # no police numbers for a check-in
    assert person_requests(stack, person_of(stack, twilio, phone)) == []

    sent = replies_to(stack, twilio, phone, "1", 1)  # "Ah, bghit nhder m3a chi 7ed"
    assert any(b.startswith(variant(domain, "utter_handoff_queued", "ary_latn")) for b in sent)
    [request] = person_requests(stack, person_of(stack, twilio, phone))
    assert (request.reason, request.priority) == ("check_in", "urgent")


def test_no_to_the_check_in_opens_nothing(stack, twilio, domain):
    phone = "whatsapp:+212600000103"
    start(stack, twilio, phone)
    sent = replies_to(stack, twilio, phone, "j'en ai marre de ma vie, tout est noir", 1)
    assert any(b.startswith(variant(domain, "utter_safety_check_in", "fr")) for b in sent), sent
    sent = replies_to(stack, twilio, phone, "2", 1)
    assert variant(domain, "utter_safety_check_in_ok", "fr") in sent
    assert person_requests(stack, person_of(stack, twilio, phone)) == []


def test_after_a_hand_back_small_words_raise_nothing_and_new_distress_does(stack, twilio, domain):
    phone = "whatsapp:+212600000104"
    person = person_of(stack, twilio, phone)
    start(stack, twilio, phone)
    replies_to(stack, twilio, phone, "baba kaydrebni kol nhar b semta", 2)
    [request] = person_requests(stack, person)
    assert request.reason == "distress"

    add_counsellor(stack, "nadia")
    with httpx.Client(base_url=stack.dashboard_url, timeout=30) as dashboard:
        login = dashboard.post("/api/session", json={"username": "nadia", "password": PASSWORD})
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        assert dashboard.post(f"/api/handoffs/{request.id}/claim", headers=csrf).is_success
        resolved = dashboard.post(
            f"/api/handoffs/{request.id}/resolve",
            json={"outcome": "listened", "hand_back": True},
            headers=csrf,
        )
        assert resolved.status_code == 200, resolved.text
    handed_back = variant(domain, "utter_handed_back", "ary_latn")
    assert twilio.wait_until(lambda: handed_back in bodies(twilio, phone), timeout=30)

    for small in ("wakha", "ah mzyan chokran"):
        sent = silence_after(stack, twilio, phone, small)
        assert not any("📞" in b for b in sent), sent
        assert variant(domain, "utter_distress_counsellor", "ary_latn") not in sent
    assert [h.status for h in person_requests(stack, person)] == ["resolved"]

    sent = replies_to(stack, twilio, phone, "baba drebni 3awtani w jrani mn dar", 2)
    assert any("📞 19" in b for b in sent), sent
    requests = person_requests(stack, person)
    assert [(h.reason, h.status) for h in requests] == [
        ("distress", "resolved"),
        ("distress", "open"),
    ]


def test_the_action_server_killed_during_a_distress_message(stack, twilio, domain):
    phone = "whatsapp:+212600000105"
    person = person_of(stack, twilio, phone)
    start(stack, twilio, phone)  # the action server answers: consent notice, greeting, menu
    actions = stack.separate_actions
    os.killpg(actions.pid, signal.SIGKILL)
    actions.wait(timeout=10)

    # In the language of the conversation (the language action cannot run either).
    sent = replies_to(stack, twilio, phone, "bghit nmout, chrebt dwa bzaf", 2)
    contacts = next((b for b in sent if "📞 19" in b), None)
    assert contacts is not None and "Police" in contacts and "📞 112" in contacts, sent
    assert variant(domain, "utter_distress_counsellor", "ary_latn") in sent
    # Queued by the delivery worker, since action_distress could not run.
    [request] = person_requests(stack, person)
    assert (request.reason, request.priority, request.status) == ("distress", "urgent", "open")
    engine = build_engine(f"sqlite:///{stack.var_dir / 'bousla.db'}")
    with engine.connect() as connection:
        audit = connection.execute(
            select(AuditEntry.details).where(
                AuditEntry.action == "distress_detected", AuditEntry.target_id == str(request.id)
            )
        ).all()
    engine.dispose()
    assert any((row.details or {}).get("by") == "delivery worker" for row in audit), audit
    # And the bot is paused, as after action_distress: the next message gets no answer.
    assert silence_after(stack, twilio, phone, "allo ?") == []
