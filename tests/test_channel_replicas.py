"""Two Rasa-server replicas on one database: every message handled once, each person's
messages in order, whichever replica received the webhook."""

from __future__ import annotations

import asyncio

from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.settings import get_settings
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

PEOPLE = 8
MESSAGES_EACH = 4


async def test_two_replicas_share_the_work_without_doing_it_twice(database_url, monkeypatch):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    with FakeTwilioAPI() as twilio:

        def channel() -> WhatsAppInput:
            return WhatsAppInput(
                account_sid=twilio.account_sid,
                auth_token=twilio.auth_token,
                whatsapp_from="whatsapp:+14155238886",
                base_url=twilio.url,
            )

        bots = [ScriptedBot(delay=0.01), ScriptedBot(delay=0.01)]
        replicas = [await start_channel_server([channel()], bot) for bot in bots]
        try:
            for turn in range(MESSAGES_EACH):
                posts = []
                for person in range(PEOPLE):
                    form = whatsapp_webhook_form(
                        from_number=f"whatsapp:+2126100000{person:02d}", body=f"p{person}-m{turn}"
                    )
                    replica = replicas[(person + turn) % 2]  # the load balancer alternates
                    posts.append(replica.post_whatsapp(form, twilio.auth_token))
                await asyncio.gather(*posts)
            total = PEOPLE * MESSAGES_EACH
            assert await wait_for(lambda: len(twilio.messages) >= total, timeout=30)
            await wait_for(lambda: False, timeout=0.5)
        finally:
            for replica in replicas:
                await replica.stop()

    handled = bots[0].texts() + bots[1].texts()
    assert sorted(handled) == sorted(
        f"p{p}-m{t}" for p in range(PEOPLE) for t in range(MESSAGES_EACH)
    )
    assert len(twilio.messages) == PEOPLE * MESSAGES_EACH
    for person in range(PEOPLE):
        bodies = [m["Body"] for m in twilio.sent_to(f"whatsapp:+2126100000{person:02d}")]
        assert bodies == [f"echo:p{person}-m{t}" for t in range(MESSAGES_EACH)]
    assert bots[0].received and bots[1].received  # both replicas took part
