"""The real stack, as a newcomer starts it: three processes, a reply over REST, a clean stop.

Each test stops its stack (Ctrl-C, a dead process): each has one of its own, both started
in the background (tests/background.py) while the unit tests run."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bot.dashboard.rasa_api import rasa_api_headers
from bot.ops.localstack import Stack, processes_with_marker
from bot.settings import get_settings
from tests import background
from tests.stack_support import ensure_model

pytestmark = [pytest.mark.slow, pytest.mark.background("newcomer stacks")]


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(f"{response}/{language}")


@background.job("newcomer stacks")
def start_newcomer_stacks(context: background.Context) -> list[Stack]:
    """`bousla run` with nothing set, once for each selected test of this module."""
    ensure_model(context.settings.models_dir)
    stacks = []
    for _ in [item for item in context.items if item.path == Path(__file__)]:
        stack = Stack(var_dir=context.mktemp("newcomer") / "var", environ=context.environ)
        context.cleanup(stack.stop)
        stacks.append(stack)
    with ThreadPoolExecutor(max_workers=len(stacks) or 1) as starting:  # at once: 2 cores
        return list(starting.map(Stack.start, stacks))


@pytest.fixture
def stack():
    started = background.result("newcomer stacks").pop(0)
    yield started
    started.stop()


def test_first_conversation_in_three_languages_then_ctrl_c_stops_everything(stack, domain):
    for sender, message, language in [
        ("e2e-arabizi", "salam", "ary_latn"),
        ("e2e-french", "Bonjour", "fr"),
        ("e2e-arabic", "السلام عليكم", "ary"),
    ]:
        texts = [reply.get("text") for reply in stack.say(sender, message)]
        # The consent notice comes together with the answer, never instead of it.
        assert texts[0] == variant(domain, "utter_consent_notice", language), texts
        assert variant(domain, "utter_greet", language) in texts
        assert variant(domain, "utter_main_menu", language) in texts

    # The notice is shown once; the menu buttons are real buttons.
    replies = stack.say("e2e-french", "menu")
    assert variant(domain, "utter_consent_notice", "fr") not in [r.get("text") for r in replies]
    buttons = [b["payload"] for r in replies for b in r.get("buttons", [])]
    assert "/ask_human" in buttons and "/seek_job" in buttons

    health = httpx.get(f"{stack.dashboard_url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    assert httpx.get(f"{stack.rasa_url}/", timeout=5).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{stack.actions_port}/health", timeout=5).status_code == 200
    chat = httpx.get(f"{stack.dashboard_url}/chat", timeout=5)
    assert chat.status_code == 200 and "Bousla" in chat.text

    # Rasa's HTTP API: a signed token in a header opens it; a token in the query string does
    # not, and the secret is on no command line (`ps`, /proc, the journal).
    secret = get_settings().rasa_api_token  # the stack has this process's BOUSLA_SECRET_KEY
    tracker = f"{stack.rasa_url}/conversations/e2e-french/tracker"
    assert httpx.get(tracker, timeout=10).status_code == 401
    assert httpx.get(tracker, params={"token": secret}, timeout=10).status_code == 401
    opened = httpx.get(tracker, headers=rasa_api_headers(secret), timeout=30)
    assert opened.status_code == 200 and opened.json()["sender_id"] == "e2e-french"
    for pid in processes_with_marker(stack.marker):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert secret.encode() not in cmdline
        assert os.environ["BOUSLA_SECRET_KEY"].encode() not in cmdline

    assert stack.interrupt() == 130
    time.sleep(0.5)
    assert processes_with_marker(stack.marker) == [], stack.log()[-3000:]


def test_when_one_process_dies_the_others_stop_and_the_exit_code_says_so(stack):
    children = [
        pid
        for pid in processes_with_marker(stack.marker)
        if b"rasa_sdk" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert children, "action server process not found"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    exit_code = stack.process.wait(timeout=60)
    assert exit_code != 0
    time.sleep(0.5)
    assert processes_with_marker(stack.marker) == [], stack.log()[-3000:]
    assert "actions stopped" in stack.log()
