"""No phone number, chat id or bot token in any log line, at any level, on any path
(webhooks, forged requests, retries, button taps, status callbacks)."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramInput
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.telegram_api import FakeTelegramAPI, callback_update, text_update, voice_update
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, OutboundMessage, Person
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

PHONE_DIGITS = "212698765432"
PHONE = f"whatsapp:+{PHONE_DIGITS}"
CHAT_ID = 5550199887


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_logs_carry_no_phone_number_chat_id_or_token(database_url, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("BOUSLA_RETRY_BASE_SECONDS", "0.05")
    get_settings.cache_clear()
    with FakeTwilioAPI() as twilio, FakeTelegramAPI() as telegram:
        channels = [
            WhatsAppInput(account_sid=twilio.account_sid, auth_token=twilio.auth_token,
                          whatsapp_from="whatsapp:+14155238886", base_url=twilio.url),
            TelegramInput(token=telegram.token, secret_token="s", base_url=telegram.url),
        ]  # fmt: skip
        server = await start_channel_server(channels, ScriptedBot())
        try:
            twilio.fail_next(500)
            telegram.fail_next(500)
            await server.post_whatsapp(whatsapp_webhook_form(from_number=PHONE, body="menu"), None)
            await server.post_whatsapp(
                whatsapp_webhook_form(from_number=PHONE, body="menu"), twilio.auth_token
            )
            await server.post_whatsapp(
                whatsapp_webhook_form(from_number=PHONE, media=[("https://x/1", "audio/ogg")]),
                twilio.auth_token,
            )
            await server.post_telegram(text_update(CHAT_ID, "menu"), None)
            await server.post_telegram(text_update(CHAT_ID, "menu"), "s")
            await server.post_telegram(voice_update(CHAT_ID), "s")
            assert await wait_for(lambda: len(twilio.messages) == 2 and len(telegram.messages) == 2)
            data = json.loads(telegram.messages[0]["reply_markup"])["inline_keyboard"][0][0]
            await server.post_telegram(callback_update(CHAT_ID, data["callback_data"]), "s")
            assert await wait_for(lambda: len(telegram.messages) == 3)
            with session_scope() as session:
                sent = session.execute(select(OutboundMessage)).scalars().first()
                sid = sent.provider_message_id
            status = {"MessageSid": sid, "MessageStatus": "delivered", "To": PHONE}
            await server.post_whatsapp(status, twilio.auth_token, path="status")
        finally:
            await server.stop()

    assert "Rejected a WhatsApp request" in caplog.text  # the logs were captured
    assert "Outbox" in caplog.text
    for secret in (PHONE_DIGITS, str(CHAT_ID), telegram.token, twilio.auth_token):
        assert secret not in caplog.text, secret
    # The address is in persons.address and nowhere else in the application's tables.
    with session_scope() as session:
        addresses = sorted(p.address for p in session.execute(select(Person)).scalars())
        assert addresses == [str(CHAT_ID), PHONE]
        for row in session.execute(select(InboundMessage)).scalars():
            assert PHONE_DIGITS not in repr(vars(row)) and str(CHAT_ID) not in repr(vars(row))
