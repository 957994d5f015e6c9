"""Follow-ups end to end, on SQLite and PostgreSQL: the real trained model (Rasa's agent),
the real action server (rasa-sdk, bot.actions), the WhatsApp channel with its delivery
worker, and the local fake Twilio API (signed webhooks, real HTTP).

A referral 15 days old gets exactly one question, as the approved template (ContentSid)
because WhatsApp's 24-hour window is over; a 3-day-old one gets none; later rounds and
racing workers send nothing more; the person's answer (a choice number, or typed words in
Darija) is stored and answered in their language.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import register
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.endpoint import create_app
from sanic import Sanic
from sqlalchemy import select

from bot.channels.identity import pseudonym
from bot.channels.whatsapp import WhatsAppInput
from bot.channels.worker import get_worker, reset_worker
from bot.followup.scheduler import FollowupScheduler
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import Followup, OutboundMessage, Person, Referral, utcnow
from tests.channels_support import ChannelServer, wait_for
from tests.conftest import agent_sharing, free_port

pytestmark = pytest.mark.slow
Sanic.test_mode = True  # several Sanic apps in one process

CONTENT_SID = "HX" + "f" * 32
ACTIONS_PORT = free_port()
PROGRAM = "anapec-idmaj"
WAIT = 60.0  # bound of every wait (the model answers in well under a second)


def variant(domain: dict, response: str, language: str) -> dict:
    return next(v for v in domain["responses"][response] if v["condition"][0]["value"] == language)


@pytest.fixture(scope="module")
def agent(loaded_model) -> Agent:
    """Rasa's agent on the trained model, as the Rasa server loads it (in-memory stores)."""
    return agent_sharing(
        loaded_model,
        action_endpoint=EndpointConfig(url=f"http://127.0.0.1:{ACTIONS_PORT}/webhook"),
    )


@pytest.fixture
def twilio(monkeypatch, database_url):
    with FakeTwilioAPI() as fake:
        for name, value in {
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_BASE_URL": fake.url,
            "TWILIO_FOLLOWUP_CONTENT_SID": CONTENT_SID,
            "BOUSLA_RETRY_BASE_SECONDS": "0.2",
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        yield fake


@contextlib.asynccontextmanager
async def rasa_server(agent: Agent) -> AsyncIterator[ChannelServer]:
    """The action server and a Rasa-like server (the agent behind the WhatsApp channel)."""
    actions = create_app("bot.actions")
    actions_server = await actions.create_server(
        host="127.0.0.1", port=ACTIONS_PORT, return_asyncio_server=True, access_log=False
    )
    await actions_server.startup()
    await actions_server.after_start()
    reset_worker()
    app = Sanic(f"bousla-followup-{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.ctx.agent = agent
    register([WhatsAppInput.from_credentials(None)], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    channels = ChannelServer(app=app, server=server, port=port, worker=get_worker())
    try:
        yield channels
    finally:
        await channels.stop()
        actions_server.close()
        await actions_server.wait_closed()
        await actions_server.after_stop()


def new_address() -> str:
    return f"whatsapp:+2126{uuid.uuid4().int % 10**8:08d}"


def seed(address: str, *, days_ago: float, kind: str = "chosen") -> str:
    """A person who last wrote when the programme was suggested to them."""
    person_id = pseudonym("whatsapp", address)
    at = utcnow() - timedelta(days=days_ago)
    with session_scope() as session:
        session.add(
            Person(
                id=person_id,
                channel="whatsapp",
                address=address,
                language="fr",
                created_at=at,
                last_seen_at=at,
                last_inbound_at=at,
            )
        )
        session.flush()
        session.add(
            Referral(
                person_id=person_id,
                program_id=PROGRAM,
                kind=kind,
                channel="whatsapp",
                language="fr",
                created_at=at,
            )
        )
    return person_id


def followup_of(person_id: str) -> Followup | None:
    with session_scope() as session:
        return session.execute(
            select(Followup).where(Followup.person_id == person_id)
        ).scalar_one_or_none()


async def reply(server: ChannelServer, twilio: FakeTwilioAPI, address: str, body: str) -> None:
    url = f"{server.url}/webhooks/whatsapp/webhook"
    form = whatsapp_webhook_form(from_number=address, body=body)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            url, data=form, headers=signed_headers(twilio.auth_token, url, form), timeout=10
        )
    assert response.status_code == 200


async def test_a_referral_two_weeks_old_gets_one_template_question_and_its_answer(
    agent, twilio, monkeypatch, domain
):
    monkeypatch.setenv("BOUSLA_FOLLOWUP_POLL_SECONDS", "0.3")  # the worker's own rounds
    get_settings.cache_clear()
    due, recent = new_address(), new_address()
    due_id = seed(due, days_ago=15)
    seed(recent, days_ago=3)

    async with rasa_server(agent) as server:
        assert await wait_for(lambda: twilio.messages, timeout=WAIT), "no follow-up sent"
        await asyncio.sleep(1.5)  # a few more rounds of the worker
        assert await FollowupScheduler(server.worker).run_once() == 0  # and one by hand
        assert len(twilio.messages) == 1
        [question] = twilio.messages
        assert question["To"] == due and question["ContentSid"] == CONTENT_SID
        assert "Body" not in question  # outside the 24-hour window: the template only
        text = json.loads(question["ContentVariables"])["1"]
        assert text.startswith("👋 Je reviens vers toi pour Contrat d'insertion Idmaj (ANAPEC).")
        assert "1. ✅ Oui, ça s'est bien passé 2. ⏳" in text and "4. 🗣️" in text
        assert twilio.sent_to(recent) == []

        followup = followup_of(due_id)
        assert (followup.status, followup.program_id) == ("asked", PROGRAM)
        with session_scope() as session:
            row = session.get(OutboundMessage, followup.outbound_id)
            assert row.template["content_sid"] == CONTENT_SID and row.status == "sent"
            assert (
                session.execute(
                    select(Referral.followup_sent_at).where(Referral.person_id == due_id)
                ).scalar_one()
                == followup.asked_at
            )

        await reply(server, twilio, due, "1")  # the first choice, as WhatsApp people do
        assert await wait_for(lambda: followup_of(due_id).status == "answered", timeout=WAIT), (
            "answer not stored"
        )
        assert followup_of(due_id).outcome == "went_well"
        thanks = variant(domain, "utter_followup_went_well", "fr")["text"]
        assert await wait_for(
            lambda: any(m.get("Body") == thanks for m in twilio.sent_to(due)), timeout=WAIT
        ), twilio.sent_to(due)


async def test_racing_workers_ask_once_and_a_typed_answer_in_darija_is_understood(
    agent, twilio, monkeypatch, domain
):
    monkeypatch.setenv("BOUSLA_FOLLOWUP_POLL_SECONDS", "3600")  # only the rounds below
    get_settings.cache_clear()
    address = new_address()
    person_id = seed(address, days_ago=16, kind="suggested")
    # The person spoke Darija in Latin letters last time: the tracker says so.
    await agent.tracker_store.save(
        DialogueStateTracker.from_events(
            person_id,
            [
                ActionExecuted(ACTION_SESSION_START_NAME),
                SessionStarted(),
                ActionExecuted(ACTION_LISTEN_NAME),
                SlotSet("language", "ary_latn"),
            ],
            slots=agent.domain.slots,
        )
    )

    async with rasa_server(agent) as server:
        workers = [FollowupScheduler(server.worker) for _ in range(3)]
        asked = await asyncio.gather(*(worker.run_once() for worker in workers))
        assert sum(asked) == 1
        assert await wait_for(lambda: twilio.sent_to(address), timeout=WAIT)
        await asyncio.sleep(0.5)
        [question] = twilio.sent_to(address)
        text = json.loads(question["ContentVariables"])["1"]
        assert text.startswith("👋 Rje3t 3ndek 3la Contrat Idmaj (ANAPEC).")

        await reply(server, twilio, address, "mazal ma 3ayttch lihom")
        assert await wait_for(lambda: followup_of(person_id).status == "answered", timeout=WAIT), (
            "answer not stored"
        )
        assert followup_of(person_id).outcome == "not_yet"
        expected = variant(domain, "utter_followup_not_yet", "ary_latn")["text"].replace(
            "{program_name}", "Contrat Idmaj (ANAPEC)"
        )
        assert await wait_for(
            lambda: any(
                (m.get("Body") or "").startswith(expected) for m in twilio.sent_to(address)
            ),
            timeout=WAIT,
        ), twilio.sent_to(address)
        answer = next(m for m in twilio.sent_to(address) if m.get("Body", "").startswith(expected))
        assert "1. 📝 Kifach ntrecha7" in answer["Body"]  # how to apply, for this programme
        assert await FollowupScheduler(server.worker).run_once() == 0
    with session_scope() as session:
        assert len(session.execute(select(Followup)).all()) == 1
