"""The trained model and the real stack shared by several test modules (started in the
background, tests/background.py).

One stack (`bousla run`: Rasa with the trained model, the action server, the dashboard,
SQLite) behind one fake Twilio API serves tests/test_handoff_stack.py,
tests/test_language_e2e.py and tests/test_privacy_stack.py: they only talk to it, each with
its own REST senders and WhatsApp numbers, and read back only what concerns those. Starting
it once instead of three times saves two Rasa start-ups (about a minute each on 2 cores).
Its settings are the union of what those modules set: WhatsApp through the fake Twilio,
Telegram without secrets (disabled), the dashboard's live updates every 0.2 s.

Modules that kill or restart processes keep a stack of their own (also started in the
background): tests/test_safety_stack.py (kills its action server),
tests/test_channel_restart_e2e.py (kills Rasa), tests/test_stack_e2e.py (Ctrl-C).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from bot.ops.fakes.twilio_api import FakeTwilioAPI
from bot.ops.localstack import Stack
from tests import background

WHATSAPP_FROM = "whatsapp:+14155238886"
_training = threading.Lock()


def ensure_model(models_dir: Path) -> Path:
    """The model of the current data, trained first if stale (never twice at once: the
    session's fixture and the background jobs may ask at the same time)."""
    from bot.ops.training import train

    with _training:
        return train(models_dir=models_dir, quiet=True)


@background.job("model")
def train_the_model(context: background.Context) -> Path:
    """From the session's start when some test needs the model (conftest.py)."""
    return ensure_model(context.settings.models_dir)


def twilio_env(twilio: FakeTwilioAPI) -> dict[str, str]:
    """WhatsApp through the fake Twilio API."""
    return {
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_BASE_URL": twilio.url,
    }


def fake_twilio(context: background.Context) -> FakeTwilioAPI:
    """The fake Twilio API of a background job's stack, stopped with the job."""
    twilio = FakeTwilioAPI()
    twilio.start()
    context.cleanup(twilio.stop)
    return twilio


@dataclass
class SharedStack:
    stack: Stack
    twilio: FakeTwilioAPI


@background.job("shared stack")
def start_shared_stack(context: background.Context) -> SharedStack:
    ensure_model(context.settings.models_dir)
    twilio = fake_twilio(context)
    env = {
        **twilio_env(twilio),
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_SECRET_TOKEN": "",
        "BOUSLA_DASHBOARD_POLL_SECONDS": "0.2",
    }
    stack = Stack(var_dir=context.mktemp("shared-stack") / "var", extra_env=env,
                  environ=context.environ)  # fmt: skip
    context.cleanup(stack.stop)
    return SharedStack(stack.start(), twilio)
