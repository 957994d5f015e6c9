"""Channels as Rasa loads them: from credentials.yml by class path, secrets from the
environment, a channel without secrets disabled in one log line, the others running."""

from __future__ import annotations

import logging

import httpx
import pytest
from rasa.core.channels.rest import RestInput
from rasa.core.run import create_http_input_channels

from bot import PROJECT_ROOT
from bot.channels.telegram import TelegramInput
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.telegram_api import FakeTelegramAPI, text_update
from bot.settings import get_settings
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

SECRETS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_FROM",
           "TELEGRAM_BOT_TOKEN", "TELEGRAM_SECRET_TOKEN")  # fmt: skip


@pytest.fixture
def no_secrets(monkeypatch):
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


def test_credentials_yml_loads_our_channels_by_class_path(no_secrets, caplog):
    caplog.set_level(logging.INFO)
    channels = create_http_input_channels(None, str(PROJECT_ROOT / "credentials.yml"))
    by_name = {channel.name(): channel for channel in channels}
    assert isinstance(by_name["whatsapp"], WhatsAppInput)
    assert isinstance(by_name["telegram"], TelegramInput)
    assert isinstance(by_name["rest"], RestInput)
    assert not by_name["whatsapp"].enabled and not by_name["telegram"].enabled
    disabled = [r for r in caplog.records if "channel disabled" in r.getMessage()]
    assert [r.getMessage() for r in disabled] == [
        "Whatsapp channel disabled: missing TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
        "TWILIO_WHATSAPP_FROM (set them to enable it; the other channels run).",
        "Telegram channel disabled: missing TELEGRAM_BOT_TOKEN, TELEGRAM_SECRET_TOKEN "
        "(set them to enable it; the other channels run).",
    ]


def test_one_missing_secret_is_enough_to_disable_and_is_named(no_secrets, monkeypatch, caplog):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    get_settings.cache_clear()
    channel = TelegramInput.from_credentials(None)
    assert channel.disabled_reason == "missing TELEGRAM_SECRET_TOKEN"
    assert "123:abc" not in caplog.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_disabled_channel_answers_503_while_the_others_run(
    database_url, no_secrets, monkeypatch
):
    with FakeTelegramAPI() as telegram:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", telegram.token)
        monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "secret")
        monkeypatch.setenv("TELEGRAM_BASE_URL", telegram.url)
        get_settings.cache_clear()
        bot = ScriptedBot()
        channels = [WhatsAppInput.from_credentials(None), TelegramInput.from_credentials(None)]
        server = await start_channel_server(channels, bot)
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                health = await client.get("/webhooks/whatsapp/")
                assert health.status_code == 503
                assert health.json()["status"] == "disabled"
                webhook = await client.post("/webhooks/whatsapp/webhook", data={"Body": "x"})
                assert webhook.status_code == 503
                assert (await client.get("/webhooks/telegram/")).json() == {"status": "ok"}
            reply = await server.post_telegram(text_update(1234, "salam"), "secret")
            assert reply.status_code == 200
            assert await wait_for(lambda: len(telegram.messages) == 1)
        finally:
            await server.stop()
