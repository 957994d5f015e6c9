"""Telegram through python-telegram-bot: real update payloads, a real Sanic server, PTB's
Bot against the local fake Bot API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.channels.identity import pseudonym
from bot.channels.telegram import TelegramInput
from bot.ops.fakes.telegram_api import (
    FakeTelegramAPI,
    callback_update,
    edited_text_update,
    photo_update,
    text_update,
    voice_update,
)
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, OutboundMessage
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

CHAT = 481516234
SECRET = "s3cret-token_for-tests"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("BOUSLA_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("BOUSLA_RETRY_MAX_SECONDS", "0.4")
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()


@pytest.fixture
def telegram():
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def bot():
    return ScriptedBot()


@pytest.fixture
async def server(database_url, fast_retries, telegram, bot):
    channel = TelegramInput(
        token=telegram.token,
        secret_token=SECRET,
        base_url=telegram.url,
        public_url="https://bousla.example.ma/",
    )
    started = await start_channel_server([channel], bot)
    # setWebhook runs in the background at start: let it pass before programming failures.
    assert await wait_for(lambda: telegram.webhook)
    yield started
    await started.stop()


def rows(model):
    with session_scope() as session:
        return session.execute(select(model).order_by(model.id)).scalars().all()


async def test_the_webhook_is_registered_with_the_secret_at_start(server, telegram):
    assert await wait_for(lambda: telegram.webhook)
    assert telegram.webhook == {
        "url": "https://bousla.example.ma/webhooks/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }


async def test_a_text_update_is_persisted_and_answered(server, telegram, bot):
    reply = await server.post_telegram(text_update(CHAT, "salam"), SECRET)
    assert reply.status_code == 200
    assert await wait_for(lambda: len(telegram.messages) == 1)
    assert telegram.messages[0]["chat_id"] == str(CHAT)
    assert telegram.messages[0]["text"] == "echo:salam"
    assert bot.received[0].sender_id == pseudonym("telegram", str(CHAT))
    assert str(CHAT) not in bot.received[0].sender_id
    assert await wait_for(lambda: rows(OutboundMessage)[0].status == "sent")
    assert rows(OutboundMessage)[0].provider_message_id == str(telegram.messages[0]["message_id"])


@pytest.mark.parametrize("secret", [None, "wrong"])
async def test_a_missing_or_wrong_secret_token_is_refused(server, telegram, bot, secret, caplog):
    reply = await server.post_telegram(text_update(CHAT, "salam"), secret)
    assert reply.status_code == 403
    await wait_for(lambda: False, timeout=0.3)
    assert telegram.messages == [] and bot.received == [] and rows(InboundMessage) == []
    assert str(CHAT) not in caplog.text


async def test_a_replayed_update_is_answered_once(server, telegram, bot):
    update = text_update(CHAT, "salam")
    for _ in range(3):
        assert (await server.post_telegram(update, SECRET)).status_code == 200
    assert await wait_for(lambda: len(telegram.messages) == 1)
    await wait_for(lambda: False, timeout=0.4)
    assert len(telegram.messages) == 1 and len(bot.received) == 1


async def test_provider_500_then_ok_delivers_once(server, telegram):
    telegram.fail_next(500)
    await server.post_telegram(text_update(CHAT, "salam"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    await wait_for(lambda: False, timeout=0.3)
    assert len(telegram.messages) == 1
    assert [r.path.rsplit("/", 1)[1] for r in telegram.requests].count("sendMessage") == 2


@sqlite_only
async def test_retry_after_is_honoured(server, telegram):
    telegram.fail_next(429, retry_after=1)
    await server.post_telegram(text_update(CHAT, "salam"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1, timeout=5)
    sends = [r for r in telegram.requests if r.path.endswith("/sendMessage")]
    assert sends[1].at - sends[0].at >= 0.95  # not the 0.05 s backoff: Telegram's 1 s


@sqlite_only
async def test_buttons_are_an_inline_keyboard_and_taps_are_answered_and_mapped(
    server, telegram, bot
):
    await server.post_telegram(text_update(CHAT, "menu"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    keyboard = json.loads(telegram.messages[0]["reply_markup"])["inline_keyboard"]
    assert [row[0]["text"] for row in keyboard] == [
        "💼 Trouver un travail", "🎓 Trouver une formation", "🗣️ Parler à quelqu'un",
    ]  # fmt: skip
    tap = callback_update(CHAT, keyboard[1][0]["callback_data"])
    assert (await server.post_telegram(tap, SECRET)).status_code == 200
    assert await wait_for(lambda: len(telegram.messages) == 2)
    assert bot.received[-1].text == "/seek_training"
    assert telegram.callback_answers == [tap["callback_query"]["id"]]
    # The transcript shows what the person tapped.
    assert rows(InboundMessage)[-1].text == "🎓 Trouver une formation"


@sqlite_only
async def test_a_forged_callback_for_someone_elses_message_is_answered_but_ignored(
    server, telegram, bot
):
    await server.post_telegram(text_update(CHAT, "menu"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    data = json.loads(telegram.messages[0]["reply_markup"])["inline_keyboard"][0][0]
    tap = callback_update(CHAT + 1, data["callback_data"])
    await server.post_telegram(tap, SECRET)
    assert await wait_for(lambda: len(telegram.callback_answers) == 1)
    await wait_for(lambda: False, timeout=0.3)
    assert len(bot.received) == 1 and len(telegram.messages) == 1


@sqlite_only
@pytest.mark.parametrize(
    ("text", "expected"),
    [("/start", "/greet"), ("/start campagne-ofppt", "/greet"), ("/help", "/main_menu"),
     ("/nimporte", "nimporte")],
)  # fmt: skip
async def test_commands(server, telegram, bot, text, expected):
    await server.post_telegram(text_update(CHAT, text), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    assert bot.received[0].text == expected


@sqlite_only
async def test_a_voice_note_is_acknowledged_and_its_file_id_kept(server, telegram, bot):
    update = voice_update(CHAT)
    await server.post_telegram(update, SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    assert bot.received[0].text == '/media_received{"media_kind":"voice"}'
    [inbound] = rows(InboundMessage)
    assert inbound.media == [
        {"kind": "voice", "file_id": update["message"]["voice"]["file_id"],
         "content_type": "audio/ogg"}
    ]  # fmt: skip


@sqlite_only
async def test_a_photo_keeps_the_largest_size_and_a_caption_is_read(server, telegram, bot):
    await server.post_telegram(photo_update(CHAT), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    assert bot.received[0].text == '/media_received{"media_kind":"photo"}'
    assert rows(InboundMessage)[0].media[0]["file_id"].startswith("AgACAgQ-large-")
    await server.post_telegram(photo_update(CHAT, caption="mon CV"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 2)
    assert bot.received[1].text == "mon CV"


@sqlite_only
async def test_an_edited_message_is_read_again(server, telegram, bot):
    first = text_update(CHAT, "bghit khdna")
    await server.post_telegram(first, SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 1)
    edit = edited_text_update(CHAT, first["message"]["message_id"], "bghit khdma")
    await server.post_telegram(edit, SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 2)
    assert bot.texts() == ["bghit khdna", "bghit khdma"]


@sqlite_only
async def test_long_replies_are_split_at_4096(server, telegram):
    await server.post_telegram(text_update(CHAT, "long"), SECRET)
    assert await wait_for(lambda: len(telegram.messages) == 2)
    assert all(len(m["text"]) <= 4096 for m in telegram.messages)


@sqlite_only
async def test_group_chats_are_ignored(server, telegram, bot):
    update = text_update(CHAT, "salam")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Groupe"}
    assert (await server.post_telegram(update, SECRET)).status_code == 200
    await wait_for(lambda: False, timeout=0.3)
    assert bot.received == [] and rows(InboundMessage) == []
