"""The development secret key is refused as soon as anything says Bousla is deployed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import DEV_SECRET_KEY, Settings

REAL_DEPLOYMENT = [
    ("BOUSLA_ENV", "production"),
    ("PUBLIC_URL", "https://bousla.example.ma"),
    ("TWILIO_ACCOUNT_SID", "AC123"),
    ("TWILIO_AUTH_TOKEN", "secret"),
    ("TELEGRAM_BOT_TOKEN", "123:abc"),
    ("TELEGRAM_SECRET_TOKEN", "secret"),
    ("DATABASE_URL", "postgresql://bousla@127.0.0.1/bousla"),
]


@pytest.fixture
def development_key(monkeypatch):
    monkeypatch.setenv("BOUSLA_SECRET_KEY", DEV_SECRET_KEY)
    for variable, _ in REAL_DEPLOYMENT:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize(("variable", "value"), REAL_DEPLOYMENT)
def test_the_development_key_is_refused_when_bousla_looks_deployed(
    development_key, monkeypatch, variable, value
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "BOUSLA_SECRET_KEY must be set" in str(refused.value)
    assert variable in str(refused.value)


def test_the_development_key_is_fine_on_a_laptop_with_sqlite(development_key, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/bousla.db")
    assert Settings().secret_key == DEV_SECRET_KEY


def test_a_real_key_is_accepted_everywhere(monkeypatch):
    for variable, value in REAL_DEPLOYMENT:
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("BOUSLA_SECRET_KEY", "a" * 64)
    assert Settings().is_production


def test_bousla_says_so_in_one_sentence(development_key, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    assert main(["catalog", "validate"]) == 2
    error = capsys.readouterr().err
    assert "BOUSLA_SECRET_KEY must be set" in error and "Traceback" not in error
