"""WhatsApp through Twilio: real signatures, a real Sanic server, the real twilio Client
against the local fake Twilio API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels import enqueue_message, transcript
from bot.channels.identity import pseudonym
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, OutboundMessage, Person, utcnow
from tests.channels_support import ScriptedBot, start_channel_server, wait_for
from tests.conftest import requires_postgres

PHONE = "whatsapp:+212612345678"
SENDER = "whatsapp:+14155238886"
# Behaviour of the channel itself; the database paths are covered on both databases.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setenv("BOUSLA_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("BOUSLA_RETRY_MAX_SECONDS", "0.4")
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()


@pytest.fixture
def twilio():
    with FakeTwilioAPI() as fake:
        yield fake


@pytest.fixture
def bot():
    return ScriptedBot()


@pytest.fixture
async def server(database_url, fast_retries, twilio, bot):
    channel = WhatsAppInput(
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        whatsapp_from=SENDER,
        base_url=twilio.url,
        followup_content_sid="HX" + "1" * 32,
    )
    started = await start_channel_server([channel], bot)
    yield started
    await started.stop()


def rows(model, **where):
    with session_scope() as session:
        query = select(model).order_by(model.id)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.execute(query).scalars().all()


async def test_a_signed_message_is_persisted_acknowledged_and_answered(server, twilio, bot):
    form = whatsapp_webhook_form(from_number=PHONE, body="salam")
    reply = await server.post_whatsapp(form, twilio.auth_token)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in reply.text
    assert await wait_for(lambda: len(twilio.messages) == 1)
    sent = twilio.messages[0]
    assert (sent["To"], sent["From"], sent["Body"]) == (PHONE, SENDER, "echo:salam")

    person_id = pseudonym("whatsapp", PHONE)
    assert [m.sender_id for m in bot.received] == [person_id]
    assert "212612345678" not in person_id
    assert await wait_for(lambda: rows(InboundMessage)[0].status == "done")
    [inbound] = rows(InboundMessage)
    assert (inbound.status, inbound.text, inbound.person_id) == ("done", "salam", person_id)
    assert await wait_for(lambda: rows(OutboundMessage)[0].status == "sent")
    [outbound] = rows(OutboundMessage)
    assert outbound.provider_message_id == sent["sid"]
    assert outbound.idempotency_key == f"in:{inbound.id}:1"
    with session_scope() as session:
        assert session.get(Person, person_id).address == PHONE


@pytest.mark.parametrize("signature", ["missing", "forged", "other-url"])
async def test_an_unsigned_or_forged_request_is_refused_and_nothing_is_sent(
    server, twilio, bot, signature, caplog
):
    form = whatsapp_webhook_form(from_number=PHONE, body="salam")
    if signature == "missing":
        reply = await server.post_whatsapp(form, None)
    elif signature == "forged":
        reply = await server.post_whatsapp(form, "not-the-auth-token")
    else:
        reply = await server.post_whatsapp(form, twilio.auth_token, url="https://evil.example/x")
    assert reply.status_code == 403
    await wait_for(lambda: False, timeout=0.3)
    assert twilio.messages == [] and bot.received == []
    assert rows(InboundMessage) == []
    assert "X-Twilio-Signature" in caplog.text
    assert "212612345678" not in caplog.text


async def test_a_replayed_webhook_is_answered_once(server, twilio, bot):
    form = whatsapp_webhook_form(from_number=PHONE, body="salam", message_sid="SM" + "a" * 32)
    for _ in range(3):
        assert (await server.post_whatsapp(form, twilio.auth_token)).status_code == 200
    assert await wait_for(lambda: len(twilio.messages) >= 1)
    await wait_for(lambda: False, timeout=0.4)
    assert len(twilio.messages) == 1
    assert len(bot.received) == 1
    assert len(rows(InboundMessage)) == 1


async def test_provider_500_then_201_delivers_once(server, twilio):
    twilio.fail_next(500)
    form = whatsapp_webhook_form(from_number=PHONE, body="salam")
    await server.post_whatsapp(form, twilio.auth_token)
    assert await wait_for(lambda: len(twilio.messages) == 1)
    await wait_for(lambda: False, timeout=0.3)
    assert len(twilio.messages) == 1
    assert len(twilio.requests) == 2  # the failed attempt, then the accepted one
    [outbound] = rows(OutboundMessage)
    assert (outbound.status, outbound.attempts) == ("sent", 2)


async def test_rate_limited_then_accepted(server, twilio):
    twilio.fail_next(429, count=2, retry_after=1)
    await server.post_whatsapp(
        whatsapp_webhook_form(from_number=PHONE, body="a"), twilio.auth_token
    )
    assert await wait_for(lambda: len(twilio.messages) == 1)
    assert rows(OutboundMessage)[0].attempts == 3


async def test_a_refused_message_fails_without_retrying(server, twilio):
    with session_scope() as session:
        session.add(
            Person(
                id="p-bad", channel="whatsapp", address="whatsapp:+2126", last_inbound_at=utcnow()
            )
        )
        session.flush()
        enqueue_message(
            session, person_id="p-bad", channel="whatsapp", text="hello", author="counsellor"
        )
    assert await wait_for(lambda: rows(OutboundMessage)[0].status == "failed")
    assert "21211" in rows(OutboundMessage)[0].error
    assert len(twilio.requests) == 1


@sqlite_only
async def test_buttons_become_numbered_choices_and_replies_map_to_payloads(server, twilio, bot):
    async def say(text: str) -> None:
        count = len(twilio.messages)
        await server.post_whatsapp(
            whatsapp_webhook_form(from_number=PHONE, body=text), twilio.auth_token
        )
        assert await wait_for(lambda: len(twilio.messages) == count + 1)

    await say("menu")
    body = twilio.messages[-1]["Body"]
    assert body.startswith("Je peux t'aider à :")
    assert "1. 💼 Trouver un travail\n2. 🎓 Trouver une formation\n3. 🗣️ Parler à quelqu'un" in body
    await say("jouj")
    assert bot.received[-1].text == "/seek_training"
    await say("menu")
    await say("٣")
    assert bot.received[-1].text == "/ask_human"
    await say("menu")
    await say("formation")
    assert bot.received[-1].text == "/seek_training"
    await say("2")  # the last answer offered no choices: "2" is just text
    assert bot.received[-1].text == "2"


@sqlite_only
async def test_twilio_quick_reply_button_payload_is_used(server, twilio, bot):
    form = whatsapp_webhook_form(
        from_number=PHONE, button_payload="/ask_human", button_text="Parler à quelqu'un"
    )
    await server.post_whatsapp(form, twilio.auth_token)
    assert await wait_for(lambda: len(twilio.messages) == 1)
    assert bot.received[0].text == "/ask_human"


@sqlite_only
@pytest.mark.parametrize(
    ("content_type", "kind"),
    [("audio/ogg", "voice"), ("image/jpeg", "photo"), ("application/pdf", "document"),
     ("image/webp", "sticker")],
)  # fmt: skip
async def test_media_are_passed_as_an_intent_and_kept_for_the_transcript(
    server, twilio, bot, content_type, kind
):
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    form = whatsapp_webhook_form(from_number=PHONE, media=[(url, content_type)])
    await server.post_whatsapp(form, twilio.auth_token)
    assert await wait_for(lambda: len(twilio.messages) == 1)
    assert bot.received[0].text == f'/media_received{{"media_kind":"{kind}"}}'
    assert twilio.messages[0]["Body"] == f"media:{kind}"
    [inbound] = rows(InboundMessage)
    assert inbound.media == [{"kind": kind, "url": url, "content_type": content_type}]
    with session_scope() as session:
        [entry, _reply] = transcript(session, person_id=inbound.person_id)
    assert entry.author == "person" and entry.media[0]["url"] == url


@sqlite_only
async def test_a_location_is_kept_and_acknowledged(server, twilio, bot):
    form = whatsapp_webhook_form(from_number=PHONE, latitude=33.65, longitude=-7.45)
    await server.post_whatsapp(form, twilio.auth_token)
    assert await wait_for(lambda: len(twilio.messages) == 1)
    assert bot.received[0].text == '/media_received{"media_kind":"location"}'
    assert rows(InboundMessage)[0].location == {"latitude": "33.65", "longitude": "-7.45"}


@sqlite_only
async def test_long_replies_are_split_on_sentences_and_sent_in_order(server, twilio):
    await server.post_whatsapp(
        whatsapp_webhook_form(from_number=PHONE, body="long"), twilio.auth_token
    )
    assert await wait_for(lambda: len(twilio.messages) == 3)
    bodies = [m["Body"] for m in twilio.messages]
    assert all(len(b) <= 1600 for b in bodies)
    assert all(b.endswith("compter.") for b in bodies)
    assert " ".join(bodies) == ("Une phrase assez longue pour compter. " * 120).strip()


@pytest.mark.parametrize("message", ["three", "long"])
async def test_a_send_failing_among_a_turns_replies_delays_the_rest_and_loses_none(
    server, twilio, message
):
    """A turn's replies leave one after the other without a claim each; when one fails,
    the ones after it wait for its retry: every reply once, in order."""
    twilio.fail_next(500, after=1)  # the second reply
    await server.post_whatsapp(
        whatsapp_webhook_form(from_number=PHONE, body=message), twilio.auth_token
    )
    assert await wait_for(lambda: len(twilio.messages) == 3)
    await wait_for(lambda: False, timeout=0.3)
    bodies = [m["Body"] for m in twilio.messages]
    if message == "three":
        assert bodies == ["reply 1", "reply 2", "reply 3"]
    else:
        assert " ".join(bodies) == ("Une phrase assez longue pour compter. " * 120).strip()
    assert len(twilio.requests) == 4  # the failed attempt, then each reply once
    outbound = rows(OutboundMessage)
    assert [(row.status, row.attempts) for row in outbound] == [
        ("sent", 1), ("sent", 2), ("sent", 1)
    ]  # fmt: skip


async def test_messages_of_one_person_are_handled_and_answered_in_order(server, twilio, bot):
    bot.delay = 0.05  # slow enough for the messages to pile up
    for index in range(6):
        form = whatsapp_webhook_form(from_number=PHONE, body=f"m{index}")
        await server.post_whatsapp(form, twilio.auth_token)
    assert await wait_for(lambda: len(twilio.messages) == 6)
    assert bot.texts() == [f"m{i}" for i in range(6)]
    assert [m["Body"] for m in twilio.messages] == [f"echo:m{i}" for i in range(6)]


@sqlite_only
async def test_status_callbacks_record_delivery_and_must_be_signed(server, twilio):
    await server.post_whatsapp(
        whatsapp_webhook_form(from_number=PHONE, body="hi"), twilio.auth_token
    )
    assert await wait_for(
        lambda: rows(OutboundMessage) and rows(OutboundMessage)[0].status == "sent"
    )
    [outbound] = rows(OutboundMessage)
    status = {"MessageSid": outbound.provider_message_id, "MessageStatus": "delivered",
              "AccountSid": twilio.account_sid, "To": PHONE, "From": SENDER}  # fmt: skip
    assert (await server.post_whatsapp(status, None, path="status")).status_code == 403
    assert rows(OutboundMessage)[0].status == "sent"
    reply = await server.post_whatsapp(status, twilio.auth_token, path="status")
    assert reply.status_code == 204
    assert rows(OutboundMessage)[0].status == "delivered"
    late = {**status, "MessageStatus": "sent"}  # out of order: never steps back
    await server.post_whatsapp(late, twilio.auth_token, path="status")
    assert rows(OutboundMessage)[0].status == "delivered"


async def test_counsellor_replies_from_another_process_are_delivered(server, twilio):
    await server.post_whatsapp(
        whatsapp_webhook_form(from_number=PHONE, body="hi"), twilio.auth_token
    )
    assert await wait_for(lambda: len(twilio.messages) == 1)
    # What the dashboard does: a row in the outbox, committed; the worker polls for it.
    with session_scope() as session:
        enqueue_message(
            session, person_id=pseudonym("whatsapp", PHONE), channel="whatsapp",
            text="Bonjour, je suis Samira, conseillère.", author="counsellor",
        )  # fmt: skip
    assert await wait_for(lambda: len(twilio.messages) == 2, timeout=3)
    assert twilio.messages[1]["Body"] == "Bonjour, je suis Samira, conseillère."


@sqlite_only
async def test_outside_the_24_hour_window_the_content_template_is_used(server, twilio):
    with session_scope() as session:
        session.add(
            Person(id="p-old", channel="whatsapp", address=PHONE,
                   last_inbound_at=utcnow() - timedelta(hours=30))
        )  # fmt: skip
        session.flush()
        enqueue_message(session, person_id="p-old", channel="whatsapp",
                        text="As-tu pu contacter l'ANAPEC ?\nRéponds 1 ou 2.")  # fmt: skip
    assert await wait_for(lambda: len(twilio.messages) == 1)
    sent = twilio.messages[0]
    assert sent["ContentSid"] == "HX" + "1" * 32
    assert "Body" not in sent
    assert json.loads(sent["ContentVariables"]) == {
        "1": "As-tu pu contacter l'ANAPEC ? Réponds 1 ou 2."
    }
    assert await wait_for(lambda: rows(OutboundMessage)[0].status == "sent")
    assert rows(OutboundMessage)[0].template["content_sid"] == "HX" + "1" * 32


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=requires_postgres)], indirect=True
)
async def test_a_webhook_is_acknowledged_while_every_database_thread_is_busy(
    database_url, server, twilio
):
    """A webhook's message is stored on threads of its own: turns' database work queued
    in front of it (trackers, replies) does not keep Twilio waiting. (SQLite, one writer
    at a time, keeps a single database thread for everything.)"""
    import asyncio
    import threading

    from bot.storage.db import database_executor

    busy = threading.Event()
    held = [database_executor().submit(busy.wait, 30) for _ in range(8)]
    try:
        form = whatsapp_webhook_form(from_number=PHONE, body="wach kayn chi formation?")
        reply = await asyncio.wait_for(server.post_whatsapp(form, twilio.auth_token), 10)
        assert reply.status_code == 200
        [inbound] = rows(InboundMessage)
        assert inbound.text == "wach kayn chi formation?"
    finally:
        busy.set()
        for job in held:
            job.result(timeout=30)
    assert await wait_for(lambda: len(twilio.messages) == 1)
