"""Rasa's own checks on the training data and the real model (as in Rasa's demo bots' CI)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import PROJECT_ROOT

pytestmark = pytest.mark.slow


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_rasa_data_validate():
    result = rasa(
        "data", "validate", "--domain", "domain.yml", "--data", "bot/data",
        "--config", "config.yml", "--fail-on-warnings",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_test_stories_pass_with_the_trained_model(trained_model, tmp_path):
    result = rasa(
        "test", "core", "--model", str(trained_model),
        "--stories", "tests/stories", "--out", str(tmp_path),
        "--fail-on-prediction-errors",
    )  # fmt: skip
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, details + result.stdout[-3000:] + result.stderr[-3000:]
