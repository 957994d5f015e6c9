"""The real stack (`bousla run`, real model, real action server) behind the WhatsApp
channel and a fake Twilio: "supprime mes données" during the profile form, and again
while a counsellor holds the conversation; after the yes the confirmation still reaches
the person, then nothing about them is left in any table of either store, the person on
the REST channel is untouched, and no phone number is in any log line.

The stack is the one shared with the handoff and language tests (tests/stack_support.py):
its stores and its log hold their people too, none of whom is anyone here."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import update

from bot.dashboard.rasa_api import RasaClient
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack
from bot.privacy import person_id_for
from bot.settings import get_settings
from bot.storage import db as storage_db
from bot.storage.db import session_scope
from bot.storage.models import Handoff, Person
from tests.test_privacy import Someone, about, assert_nothing_about, every_row

pytestmark = [pytest.mark.slow, pytest.mark.background("shared stack")]

ANNA_PHONE, CHAMS_PHONE = "+212611220033", "+212622330044"


def variants(domain: dict, response: str) -> list[str]:
    return [candidate["text"] for candidate in domain["responses"][response]]


def post(stack: Stack, twilio: FakeTwilioAPI, phone: str, body: str) -> None:
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    form = whatsapp_webhook_form(from_number=f"whatsapp:{phone}", body=body)
    response = httpx.post(
        url, data=form, headers=signed_headers(twilio.auth_token, url, form), timeout=10
    )
    assert response.status_code == 200


def replies(twilio: FakeTwilioAPI, phone: str) -> list[str]:
    return [m["Body"] for m in twilio.sent_to(f"whatsapp:{phone}")]


def say(stack, twilio, phone: str, body: str, expect: int, timeout: float = 60) -> list[str]:
    """Send, and wait until `expect` more messages reached the person."""
    before = len(replies(twilio, phone))
    post(stack, twilio, phone, body)
    assert twilio.wait_until(
        lambda: len(replies(twilio, phone)) >= before + expect, timeout=timeout
    ), (replies(twilio, phone), stack.log()[-3000:])
    return replies(twilio, phone)[before:]


def gone(who: Someone) -> bool:
    with session_scope() as session:
        return session.get(Person, who.person_id) is None


@pytest.fixture
def stack(shared_stack, monkeypatch) -> Stack:
    """The shared stack, with this process's settings on its var/ (its two stores)."""
    monkeypatch.setenv("BOUSLA_VAR_DIR", str(shared_stack.stack.var_dir))
    get_settings.cache_clear()
    storage_db.get_engine.cache_clear()
    storage_db._session_factory.cache_clear()
    return shared_stack.stack


def test_erasure_through_the_whatsapp_channel_leaves_nothing_and_no_number_in_logs(
    stack, shared_stack, domain
):
    anna = Someone(person_id_for("whatsapp", ANNA_PHONE), f"whatsapp:{ANNA_PHONE}", "zitounA")
    chams = Someone(person_id_for("whatsapp", CHAMS_PHONE), f"whatsapp:{CHAMS_PHONE}", "tinC")
    question = variants(domain, "utter_ask_delete_my_data")
    done = variants(domain, "utter_delete_my_data_done")
    twilio = shared_stack.twilio
    assert stack.say("rest-bilal", "Bonjour, rommanB ici")  # someone else, on REST

    # During the profile form: the form gives way, the question, then the yes.
    say(stack, twilio, ANNA_PHONE, "salam, bghit nl9a khdma zitounA", expect=3)
    asked = say(stack, twilio, ANNA_PHONE, "mse7 les données dyali", expect=1)
    assert any(asked[-1].startswith(q) for q in question), asked
    assert "\n1. " in asked[-1]  # the yes/no buttons as numbered choices
    confirmed = say(stack, twilio, ANNA_PHONE, "1", expect=1)  # "1" = the yes button
    assert confirmed[-1] in done
    deadline = time.monotonic() + 30
    while not gone(anna) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(anna), stack.log()[-3000:]

    # While a counsellor holds the conversation the bot is silent, except for this.
    # The notice, "request queued" and, outside opening hours, when they answer.
    say(stack, twilio, CHAMS_PHONE, "bghit nhder m3a chi moustachar, tinC", expect=2)
    time.sleep(2)
    settings = get_settings()
    RasaClient(stack.rasa_url, settings.rasa_api_token).pause(chams.person_id)
    with session_scope() as session:
        session.execute(
            update(Handoff).where(Handoff.person_id == chams.person_id).values(status="claimed")
        )
    count = len(replies(twilio, CHAMS_PHONE))
    post(stack, twilio, CHAMS_PHONE, "salam")
    time.sleep(3)
    assert len(replies(twilio, CHAMS_PHONE)) == count  # paused: no answer
    asked = say(stack, twilio, CHAMS_PHONE, "امسح المعلومات ديالي", expect=1)
    assert any(asked[-1].startswith(q) for q in question), asked
    confirmed = say(stack, twilio, CHAMS_PHONE, "إيه", expect=1)
    assert confirmed[-1] in done
    deadline = time.monotonic() + 30
    while not gone(chams) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(chams), stack.log()[-3000:]
    log = stack.log()

    rows = every_row()
    assert_nothing_about(anna, rows)
    assert_nothing_about(chams, rows)
    bilal = Someone("rest-bilal", "", "rommanB")
    assert any(about(bilal, r) for r in rows["persons"])
    assert any(about(bilal, r) for r in rows["events"])
    assert "Erased whatsapp-" in log  # the Rasa server's log line, by pseudonym
    for digits in ("212611220033", "212622330044"):
        assert digits not in log
