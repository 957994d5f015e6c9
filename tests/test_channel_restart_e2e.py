"""The real stack (`bousla run`, real model, real action server) behind the WhatsApp
channel: Rasa killed (-9) after the webhook was acknowledged and before the reply could
leave, then restarted: the person is still answered, once. Telegram has no secrets
here: it is disabled with one log line and the other channels run.

The first start of the stack is done in the background (tests/background.py), while the
unit tests run; the restart after the kill is the test's own."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack, processes_with_marker
from tests import background
from tests.stack_support import ensure_model, fake_twilio, twilio_env

pytestmark = [pytest.mark.slow, pytest.mark.background("stack to kill")]

PHONE_DIGITS = "212611223344"
PHONE = f"whatsapp:+{PHONE_DIGITS}"


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(response)


def rasa_pids(marker: str) -> list[int]:
    return [
        pid
        for pid in processes_with_marker(marker)
        if b"bot.ops.rasa_server\x00run" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def post_signed(stack: Stack, twilio: FakeTwilioAPI, form: dict) -> httpx.Response:
    url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
    return httpx.post(
        url, data=form, headers=signed_headers(twilio.auth_token, url, form), timeout=10
    )


@dataclass
class FirstStart:
    stack: Stack
    twilio: FakeTwilioAPI
    env: dict[str, str]


@background.job("stack to kill")
def start_the_stack_to_kill(context: background.Context) -> FirstStart:
    ensure_model(context.settings.models_dir)
    twilio = fake_twilio(context)
    env = {
        **twilio_env(twilio),
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_SECRET_TOKEN": "",
        "BOUSLA_RETRY_BASE_SECONDS": "0.2",
        "BOUSLA_RETRY_MAX_SECONDS": "1",
    }
    stack = Stack(var_dir=context.mktemp("restart") / "var", extra_env=env,
                  environ=context.environ)  # fmt: skip
    context.cleanup(stack.stop)
    return FirstStart(stack.start(), twilio, env)


def test_rasa_killed_between_ack_and_reply_still_answers_once(domain):
    first = background.result("stack to kill")
    stack, twilio, env = first.stack, first.twilio, first.env
    var_dir = stack.var_dir
    try:
        log = stack.log()
        assert log.count("Telegram channel disabled") == 1, log[-3000:]
        assert "Whatsapp channel disabled" not in log
        assert stack.say("rest-still-works", "salam"), "the REST channel answers"

        twilio.go_down(3600)  # nothing can leave before the kill
        form = whatsapp_webhook_form(from_number=PHONE, body="salam")
        assert post_signed(stack, twilio, form).status_code == 200
        for pid in rasa_pids(stack.marker):
            os.kill(pid, signal.SIGKILL)
        stack.process.wait(timeout=60)  # the process manager stops the others
        assert twilio.messages == []
    finally:
        stack.stop()

    twilio.come_back()
    restarted = Stack(var_dir=var_dir, extra_env=env, environ=stack.environ).start()
    try:
        expected = [
            variant(domain, "utter_consent_notice", "ary_latn"),
            variant(domain, "utter_greet", "ary_latn"),
        ]
        assert twilio.wait_until(lambda: len(twilio.sent_to(PHONE)) >= 3, timeout=60), (
            restarted.log()[-3000:]
        )
        bodies = [m["Body"] for m in twilio.sent_to(PHONE)]
        assert bodies[:2] == expected
        assert bodies[2].startswith(variant(domain, "utter_main_menu", "ary_latn"))
        assert "\n1. 💼 Tl9a khdma\n2. " in bodies[2]  # buttons as numbered choices

        # The same webhook again (Twilio retries): answered already, nothing more.
        assert post_signed(restarted, twilio, form).status_code == 200
        # A numbered answer reaches Rasa as the button's payload.
        choice = whatsapp_webhook_form(from_number=PHONE, body="4")  # 4. 💰 Tl9a tamwil
        assert post_signed(restarted, twilio, choice).status_code == 200
        # Financing starts the profile form: its intro, then the consent question.
        assert twilio.wait_until(lambda: len(twilio.sent_to(PHONE)) >= 5, timeout=30)
        time.sleep(2)
        bodies = [m["Body"] for m in twilio.sent_to(PHONE)]
        assert len(bodies) == 5, bodies
        assert bodies[3] == variant(domain, "utter_orientation_intro", "ary_latn")
        assert bodies[4].startswith(variant(domain, "utter_ask_profile_consent", "ary_latn"))

        # A voice note during the form: the bot says it cannot listen, asks to write,
        # and asks its question again.
        voice = whatsapp_webhook_form(
            from_number=PHONE, media=[("https://api.twilio.com/x/Media/ME1", "audio/ogg")]
        )
        assert post_signed(restarted, twilio, voice).status_code == 200
        assert twilio.wait_until(lambda: len(twilio.sent_to(PHONE)) >= 7, timeout=30)
        bodies = [m["Body"] for m in twilio.sent_to(PHONE)]
        assert bodies[5] == variant(domain, "utter_media_voice", "ary_latn")
        assert bodies[6].startswith(variant(domain, "utter_ask_profile_consent", "ary_latn"))

        # Phone numbers stay out of the logs and out of Rasa's tracker store.
        assert PHONE_DIGITS not in restarted.log()
        assert PHONE_DIGITS.encode() not in (var_dir / "rasa_tracker.db").read_bytes()
    finally:
        restarted.stop()
