"""Two Rasa-server replicas in one process, on the real agent (the trained model, Bousla's
SQL tracker store, the action server) with Rasa's lock store in a private Redis: every
message is answered once, with what the dialogue says, in order, whichever replica took it.

The fast version with a stand-in bot is tests/test_channel_replicas.py; the version with
separate processes behind nginx is tests/test_faults_load.py (`make test-load`).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import register
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from bot.channels.whatsapp import WhatsAppInput
from bot.channels.worker import get_worker, reset_worker
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.ops.scale.private import PrivateRedis
from bot.settings import get_settings
from bot.storage.rasa_stores import TrackerStore, fail_loudly
from tests.channels_support import ChannelServer, wait_for
from tests.conftest import agent_sharing, free_port
from tests.system_deps import require_system

pytestmark = [pytest.mark.slow, require_system("redis-server")]
Sanic.test_mode = True  # several Sanic apps in one process

PEOPLE = [("fr", ["Bonjour", "je cherche du travail", "oui"]),
          ("ary_latn", ["salam", "bghit nl9a khdma", "ah"]),
          ("ary", ["السلام عليكم", "بغيت نلقى خدمة", "اه"]),
          ("fr", ["bonsoir", "je veux un travail", "oui"])]  # fmt: skip
# What each person's three messages make Bousla say, in order (domain.yml responses).
ASKED = ["utter_consent_notice", "utter_ask_profile_consent", "utter_ask_age"]


def openings(domain: dict, response: str, language: str) -> list[str]:
    return [
        candidate["text"].split("{")[0].strip().splitlines()[0][:30]
        for candidate in domain["responses"][response]
        if any(c.get("value") == language for c in candidate.get("condition") or [])
    ]


async def replica(agent: Agent) -> ChannelServer:
    reset_worker()
    app = Sanic(f"bousla-replica-{uuid.uuid4().hex[:8]}", configure_logging=False)
    app.ctx.agent = agent
    register([WhatsAppInput.from_credentials(None)], app, route="/webhooks/")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    return ChannelServer(app=app, server=server, port=port, worker=get_worker())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_two_replicas_on_the_real_agent_answer_each_message_once_in_order(
    database_url, loaded_model, domain, monkeypatch
):
    actions_port = free_port()
    with PrivateRedis() as redis, FakeTwilioAPI() as twilio:
        for name, value in {
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_BASE_URL": twilio.url,
            "BOUSLA_CHANNEL_POLL_SECONDS": "0.05",
            "REDIS_URL": redis.url,
        }.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        actions = create_app("bot.actions")
        actions_server = await actions.create_server(
            host="127.0.0.1", port=actions_port, return_asyncio_server=True, access_log=False
        )
        await actions_server.startup()
        await actions_server.after_start()
        # The session's loaded model is shared (it holds nothing about conversations);
        # each replica has its own agent, processor and Redis lock-store client, as two
        # processes would, and both keep trackers in Bousla's own store.
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{actions_port}/webhook")
        agents = [
            agent_sharing(
                loaded_model,
                action_endpoint=endpoint,
                tracker_store=TrackerStore(),
                lock_store=RedisLockStore(host="127.0.0.1", port=redis.port, key_prefix="t"),
            )
            for _ in range(2)
        ]
        for agent in agents:
            fail_loudly(agent)
        handled = [0, 0]
        for index, agent in enumerate(agents):
            original = agent.handle_message

            async def counted(message, index=index, original=original):
                handled[index] += 1
                return await original(message)

            agent.handle_message = counted
        replicas = [await replica(agent) for agent in agents]
        addresses = [f"whatsapp:+2126{uuid.uuid4().int % 10**8:08d}" for _ in PEOPLE]
        try:
            for turn in range(3):
                posts = []
                for index, (address, (_, script)) in enumerate(zip(addresses, PEOPLE, strict=True)):
                    form = whatsapp_webhook_form(from_number=address, body=script[turn])
                    target = replicas[(index + turn) % 2]  # the load balancer alternates
                    posts.append(target.post_whatsapp(form, twilio.auth_token))
                assert all(r.status_code == 200 for r in await asyncio.gather(*posts))

                def turn_answered(turn: int = turn) -> bool:
                    return all(
                        any(
                            any(w in m["Body"] for w in openings(domain, ASKED[turn], language))
                            for m in twilio.sent_to(address)
                        )
                        for address, (language, _) in zip(addresses, PEOPLE, strict=True)
                    )

                assert await wait_for(turn_answered, timeout=90), twilio.messages
            await wait_for(lambda: False, timeout=1)
        finally:
            for server in replicas:
                await server.stop()
            actions_server.close()
            await actions_server.wait_closed()
            await actions_server.after_stop()

    for address, (language, _) in zip(addresses, PEOPLE, strict=True):
        bodies = [m["Body"] for m in twilio.sent_to(address)]
        assert len(bodies) == len(set(bodies)), bodies  # nothing said twice
        position = 0
        for response in ASKED:
            wanted = openings(domain, response, language)
            found = next(
                (i for i in range(position, len(bodies)) if any(w in bodies[i] for w in wanted)),
                None,
            )
            assert found is not None, (language, response, bodies)
            position = found + 1
    # Every message went through Rasa once, on one replica or the other (which one is up
    # to the workers' timing: both drain the shared inbox).
    assert sum(handled) == len(PEOPLE) * 3, handled
