"""Work left by a crash resumes at start, without doing anything twice: an inbox row
whose turn is already in the tracker is not handed to Rasa again, and a reply already
in the outbox is not queued (nor sent) again."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from rasa.shared.core.events import UserUttered
from sqlalchemy import select

from bot.channels import enqueue_message
from bot.channels.identity import pseudonym
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.twilio_api import FakeTwilioAPI
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage, OutboundMessage, Person, utcnow
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

PHONE = "whatsapp:+212600000042"


class TrackerStore:
    def __init__(self, events: list) -> None:
        self.events = events

    async def retrieve(self, sender_id: str):
        return SimpleNamespace(events=self.events)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_unfinished_work_resumes_once_after_a_crash(database_url, monkeypatch):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    person = pseudonym("whatsapp", PHONE)
    crashed = utcnow() - timedelta(minutes=1)  # leases of the dead process have run out
    with session_scope() as session:
        session.add(Person(id=person, channel="whatsapp", address=PHONE, last_inbound_at=crashed))
        session.flush()
        # 1: handled and saved in the tracker, the crash came before it was marked done.
        # 2: handed to Rasa, its first reply queued and sent, then the crash.
        # 3: received and acknowledged, never started.
        for number, status in ((1, "processing"), (2, "processing"), (3, "pending")):
            session.add(
                InboundMessage(
                    id=number, channel="whatsapp", provider_message_id=f"SM{number}",
                    person_id=person, text=f"m{number}", status=status, received_at=crashed,
                    attempts=1 if status == "processing" else 0, lease_until=crashed,
                )
            )  # fmt: skip
        session.flush()
        already = enqueue_message(session, person_id=person, channel="whatsapp",
                                  text="echo:m2", idempotency_key="in:2:1")  # fmt: skip
        already.status = "sent"

    bot = ScriptedBot()
    with FakeTwilioAPI() as twilio:
        channel = WhatsAppInput(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            whatsapp_from="whatsapp:+14155238886",
            base_url=twilio.url,
        )
        # What Rasa's server provides: the agent, whose tracker already has turn 1.
        agent = SimpleNamespace(
            is_ready=lambda: True,
            tracker_store=TrackerStore([UserUttered("m1", message_id="whatsapp:SM1")]),
        )
        server = await start_channel_server([channel], bot, agent=agent)
        try:
            assert await wait_for(lambda: len(twilio.messages) == 1, timeout=5)
            await wait_for(lambda: False, timeout=0.5)
        finally:
            await server.stop()

    assert bot.texts() == ["m2", "m3"]  # turn 1 is not replayed; 2 and 3 in order
    assert [m["Body"] for m in twilio.messages] == ["echo:m3"]  # echo:m2 was sent before
    with session_scope() as session:
        statuses = session.execute(select(InboundMessage.status)).scalars().all()
        assert statuses == ["done", "done", "done"]
        keys = session.execute(select(OutboundMessage.idempotency_key)).scalars().all()
        assert keys == ["in:2:1", "in:3:1"]
