"""Rasa's REST channel takes the sender id from the body: in production it needs its token."""

from __future__ import annotations

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.rest import RestInput, rest_token
from bot.settings import get_settings
from tests.channels_support import ScriptedBot, start_channel_server

MESSAGE = {"sender": "whatsapp-0123456789abcdef", "message": "bghit nhder m3a chi wa7ed"}


class EchoAgent:
    """Rasa's agent as the REST channel sees it: answers on the collecting channel."""

    is_ready = staticmethod(lambda: True)

    async def handle_message(self, message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "echo")


@pytest.fixture
async def server(database_url):
    started = await start_channel_server([RestInput()], ScriptedBot(), agent=EchoAgent())
    yield started
    await started.stop()


async def post(server, headers=None) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{server.url}/webhooks/rest/webhook", json=MESSAGE, headers=headers, timeout=10
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_in_production_the_rest_channel_needs_its_token(server, monkeypatch):
    monkeypatch.setenv("BOUSLA_ENV", "production")
    get_settings.cache_clear()
    refused = await post(server)
    assert refused.status_code == 403
    forged = await post(server, {"Authorization": "Bearer guessed"})
    assert forged.status_code == 403
    answered = await post(server, {"Authorization": f"Bearer {rest_token()}"})
    assert answered.status_code == 200 and answered.json()[0]["text"] == "echo"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_a_workstation_it_answers_as_before(server):
    answered = await post(server)
    assert answered.status_code == 200 and answered.json()[0]["text"] == "echo"
