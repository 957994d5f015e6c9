"""Rasa's own checks on the training data and the real model (as in Rasa's demo bots' CI).

Both run Rasa in a process of its own for about a minute: they start in the background
(tests/background.py) while the unit tests run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from tests import background
from tests.stack_support import ensure_model

pytestmark = pytest.mark.slow

UNUSED_UTTERANCE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
UNUSED_INTENT = re.compile(r"The intent '(\w+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")
# Responses sent by Rasa's own default actions (action_default_fallback, ..._ask_rephrase).
SENT_BY_RASA_DEFAULT_ACTIONS = {"utter_default", "utter_ask_rephrase"}
# Intents whose journeys are still being built (issues 4, 5 and 8); empty this set as they land.
INTENTS_WITHOUT_JOURNEY_YET = {"inform"}


def rasa(
    *args: str, timeout: int = 600, environ: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=PROJECT_ROOT,
        env={**(os.environ if environ is None else environ), "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def dispatched_by_actions(name: str) -> bool:
    """True if a custom action sends this response (literally or by its prefix)."""
    sources = "\n".join(p.read_text() for p in (PROJECT_ROOT / "bot").rglob("*.py"))
    if name in SENT_BY_RASA_DEFAULT_ACTIONS or f'"{name}"' in sources:
        return True
    prefixes = re.findall(r'f"(utter_\w+?)\{', sources)
    return any(name.startswith(prefix) for prefix in prefixes)


@background.job("rasa data validate")
def rasa_data_validate(context: background.Context) -> subprocess.CompletedProcess:
    """`rasa data validate` takes most of a minute: run in the background."""
    return rasa(
        "data", "validate", "--domain", "domain.yml", "--data", "bot/data",
        "--config", "config.yml", environ=context.environ,
    )  # fmt: skip


@pytest.mark.background("rasa data validate")
def test_rasa_data_validate():
    result = background.result("rasa data validate")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    unexpected = []
    for warning in WARNING.findall(output):
        utterance = UNUSED_UTTERANCE.search(warning)
        intent = UNUSED_INTENT.search(warning)
        if utterance and dispatched_by_actions(utterance.group(1)):
            continue  # sent by a custom action, not by a story step
        if intent and intent.group(1) in INTENTS_WITHOUT_JOURNEY_YET:
            continue
        unexpected.append(warning)
    assert not unexpected, "\n".join(unexpected)


@background.job("rasa test core")
def rasa_test_core(context: background.Context) -> tuple[subprocess.CompletedProcess, Path]:
    """`rasa test core` loads the model (about a minute): run in the background."""
    model = ensure_model(context.settings.models_dir)
    out = context.mktemp("rasa-test-core")
    result = rasa(
        "test", "core", "--model", str(model),
        "--stories", "tests/stories", "--out", str(out),
        "--fail-on-prediction-errors", environ=context.environ,
    )  # fmt: skip
    return result, out


@pytest.mark.background("rasa test core")
def test_the_policies_predict_the_test_stories_actions():
    """`rasa test core` without --e2e: the dialogue policies, given each story's own intents
    (the messages are not read, the actions do not run). The same stories go through NLU
    and the real action server in tests/test_conversations.py."""
    result, out = background.result("rasa test core")
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
