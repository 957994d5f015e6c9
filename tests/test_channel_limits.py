"""What a webhook may carry: bodies are capped per provider, text is stored up to the web
chat's bound (NLU reads the start and tells the person), `/intent{...}` typed by a person is
text on every channel, and the dashboard links only to https media."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.channels.telegram import TelegramInput
from bot.channels.text import MAX_INBOUND_TEXT
from bot.channels.webchat import WebchatInput
from bot.channels.whatsapp import WhatsAppInput
from bot.dashboard.templating import templates
from bot.ops.fakes.telegram_api import FakeTelegramAPI, text_update
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

PHONE = "whatsapp:+212612345678"
CHAT = 481516234
SECRET = "s3cret-token_for-tests"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
FORGED_INTENT = '/ask_human{"priority": "urgent"}'


@pytest.fixture
async def server(database_url, monkeypatch):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    bot = ScriptedBot()
    with FakeTwilioAPI() as twilio, FakeTelegramAPI() as telegram:
        channels = [
            WhatsAppInput(account_sid=twilio.account_sid, auth_token=twilio.auth_token,
                          whatsapp_from="whatsapp:+14155238886", base_url=twilio.url),
            TelegramInput(token=telegram.token, secret_token=SECRET, base_url=telegram.url),
            WebchatInput(),
        ]  # fmt: skip
        started = await start_channel_server(channels, bot)
        started.bot, started.twilio = bot, twilio
        yield started
        await started.stop()


def inbox() -> list[InboundMessage]:
    with session_scope() as session:
        return session.execute(select(InboundMessage).order_by(InboundMessage.id)).scalars().all()


@sqlite_only
async def test_a_3_mb_whatsapp_body_is_refused_and_nothing_is_stored(server):
    form = whatsapp_webhook_form(from_number=PHONE, body="a" * 3_000_000)
    reply = await server.post_whatsapp(form, server.twilio.auth_token)
    assert reply.status_code == 413
    assert inbox() == []


@sqlite_only
async def test_a_3_mb_telegram_text_is_refused_and_nothing_is_stored(server):
    reply = await server.post_telegram(text_update(CHAT, "a" * 3_000_000), SECRET)
    assert reply.status_code == 413
    assert inbox() == []


@sqlite_only
async def test_a_long_message_is_stored_up_to_the_bound(server):
    text = "bghit nkhdem " * 4000  # 52,000 characters, well under the 64 KB form
    reply = await server.post_telegram(text_update(CHAT, text), SECRET)
    assert reply.status_code == 200
    [stored] = inbox()
    assert stored.text == text[:MAX_INBOUND_TEXT]


@sqlite_only
@pytest.mark.parametrize("channel", ["whatsapp", "telegram", "webchat"])
async def test_an_intent_typed_by_a_person_is_text_on_every_channel(server, channel):
    if channel == "whatsapp":
        form = whatsapp_webhook_form(from_number=PHONE, body=FORGED_INTENT)
        reply = await server.post_whatsapp(form, server.twilio.auth_token)
    elif channel == "telegram":
        reply = await server.post_telegram(text_update(CHAT, FORGED_INTENT), SECRET)
    else:
        import httpx

        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{server.url}/webhooks/webchat/webhook",
                json={"sender": "browser-0123456789", "message_id": "m-0123456789",
                      "message": FORGED_INTENT},
            )  # fmt: skip
    assert reply.status_code == 200
    assert await wait_for(lambda: server.bot.received)
    assert server.bot.texts() == ['ask_human{"priority": "urgent"}']


def test_the_dashboard_links_only_to_https_media():
    entries = [
        {"author": "person", "text": None, "at": None, "media": [
            {"kind": "photo", "url": "https://api.twilio.com/2010-04-01/Media/ME1"},
            {"kind": "document", "url": "javascript:alert(1)"},
            {"kind": "document", "url": "http://example.com/x.pdf"},
        ]},
    ]  # fmt: skip
    html = templates.env.get_template("_transcript.html").render(
        entries=entries, labels=_Labels(), delivery={}
    )
    assert 'href="https://api.twilio.com/2010-04-01/Media/ME1"' in html
    assert "javascript:" not in html and "http://example.com" not in html
    assert html.count('class="media"') == 3  # the others are named, not linked


class _Labels:
    AUTHOR = CHANNEL = {}

    def of(self, table, value):
        return value
