"""A provider unreachable for 30 s: the replies wait in the outbox and are delivered
once, soon after it comes back (backoff capped at 1 s here; 300 s by default)."""

from __future__ import annotations

import time

import pytest

from bot.channels.telegram import TelegramInput
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.telegram_api import FakeTelegramAPI, text_update
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.settings import get_settings
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

OUTAGE_SECONDS = 30.0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_both_providers_down_for_30_seconds_then_delivered_once(database_url, monkeypatch):
    monkeypatch.setenv("BOUSLA_RETRY_BASE_SECONDS", "0.1")
    monkeypatch.setenv("BOUSLA_RETRY_MAX_SECONDS", "1")
    get_settings.cache_clear()
    with FakeTwilioAPI() as twilio, FakeTelegramAPI() as telegram:
        channels = [
            WhatsAppInput(account_sid=twilio.account_sid, auth_token=twilio.auth_token,
                          whatsapp_from="whatsapp:+14155238886", base_url=twilio.url),
            TelegramInput(token=telegram.token, secret_token="s", base_url=telegram.url),
        ]  # fmt: skip
        server = await start_channel_server(channels, ScriptedBot())
        try:
            twilio.go_down(OUTAGE_SECONDS)
            telegram.go_down(OUTAGE_SECONDS)
            down_at = time.monotonic()
            form = whatsapp_webhook_form(from_number="whatsapp:+212600000001", body="salam")
            assert (await server.post_whatsapp(form, twilio.auth_token)).status_code == 200
            assert (await server.post_telegram(text_update(99, "salam"), "s")).status_code == 200

            # Nothing gets through during the outage, though the worker keeps trying.
            await wait_for(lambda: False, timeout=OUTAGE_SECONDS - 1)
            assert twilio.messages == [] and telegram.messages == []
            assert len(twilio.requests) > 5 and len(telegram.requests) > 5

            assert await wait_for(
                lambda: len(twilio.messages) == 1 and len(telegram.messages) == 1, timeout=6
            )
            delivered_after = time.monotonic() - down_at
            assert OUTAGE_SECONDS <= delivered_after < OUTAGE_SECONDS + 3
            await wait_for(lambda: False, timeout=1)
            assert len(twilio.messages) == 1 and len(telegram.messages) == 1
        finally:
            await server.stop()
