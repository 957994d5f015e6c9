"""The local web chat through the inbox and outbox: replies and counsellors' messages
are fetched by the page."""

from __future__ import annotations

import httpx
import pytest

from bot import PROJECT_ROOT
from bot.channels import enqueue_message
from bot.channels.identity import pseudonym
from bot.channels.webchat import WebchatInput
from bot.settings import get_settings
from bot.storage.db import session_scope
from tests.channels_support import ScriptedBot, start_channel_server, wait_for

BROWSER = "webchat-abc123def"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_posts_then_polls_and_sees_a_counsellor_too(database_url, monkeypatch):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    bot = ScriptedBot()
    server = await start_channel_server([WebchatInput.from_credentials(None)], bot)
    try:
        async with httpx.AsyncClient(base_url=f"{server.url}/webhooks/webchat") as client:
            message = {"sender": BROWSER, "message": "menu", "message_id": "m-0001xyz"}
            for _ in range(2):  # a retried POST is handled once
                assert (await client.post("/webhook", json=message)).status_code == 200
            bad = await client.post("/webhook", json={"sender": "x", "message": "hi"})
            assert bad.status_code == 400

            async def fetch(after: int = 0) -> list[dict]:
                reply = await client.get("/messages", params={"sender": BROWSER, "after": after})
                return reply.json()["messages"]

            found: list[dict] = []

            async def poll() -> bool:
                found[:] = await fetch()
                return bool(found)

            for _ in range(100):
                if await poll():
                    break
                await wait_for(lambda: False, timeout=0.05)
            assert [m["text"] for m in found] == ["Je peux t'aider à :"]
            assert [b["payload"] for b in found[0]["buttons"]][0] == "/seek_job"
            assert len(bot.received) == 1

            with session_scope() as session:
                enqueue_message(
                    session, person_id=pseudonym("webchat", BROWSER), channel="webchat",
                    text="Salam, je suis Samira du centre.", author="counsellor",
                )  # fmt: skip
            later = await fetch(after=found[-1]["id"])
            assert [(m["author"], m["text"]) for m in later] == [
                ("counsellor", "Salam, je suis Samira du centre.")
            ]
            assert await fetch(after=later[-1]["id"]) == []
            other = await client.get("/messages", params={"sender": "webchat-other99", "after": 0})
            assert other.json()["messages"] == []
    finally:
        await server.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_conversation_comes_back_in_order_with_the_persons_own_messages(
    database_url, monkeypatch
):
    """A page load asks with after_mine=0: the person's messages (a tapped button by its
    title) and the replies, in the order they were written; `pending` says whether the
    last message is still being answered, reply or not ("silence")."""
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()
    server = await start_channel_server([WebchatInput.from_credentials(None)], ScriptedBot())
    try:
        async with httpx.AsyncClient(base_url=f"{server.url}/webhooks/webchat") as client:

            async def conversation() -> dict:
                params = {"sender": BROWSER, "after": 0, "after_mine": 0}
                return (await client.get("/messages", params=params)).json()

            async def say(message: dict) -> None:
                body = {"sender": BROWSER, **message}
                assert (await client.post("/webhook", json=body)).status_code == 200
                for _ in range(200):
                    if not (await conversation())["pending"]:
                        return
                    await wait_for(lambda: False, timeout=0.05)
                raise AssertionError("still pending")

            await say({"message": "menu", "message_id": "m-0001aaa"})
            await say({"message": "/seek_job", "title": "💼 Trouver un travail",
                       "message_id": "m-0002aaa"})  # fmt: skip
            await say({"message": "silence", "message_id": "m-0003aaa"})
            found = await conversation()
            assert found["pending"] is False
            assert [(m["author"], m["text"]) for m in found["messages"]] == [
                ("person", "menu"),
                ("bot", "Je peux t'aider à :"),
                ("person", "💼 Trouver un travail"),
                ("bot", "echo:/seek_job"),  # Rasa read the payload
                ("person", "silence"),
            ]
            assert found["messages"][0]["message_id"] == "m-0001aaa"
            # Without after_mine (older pages), only what was sent to the person.
            plain = await client.get("/messages", params={"sender": BROWSER, "after": 0})
            assert [m["author"] for m in plain.json()["messages"]] == ["bot", "bot"]
    finally:
        await server.stop()


def test_statistics_and_the_queue_tell_the_web_chat_from_rasas_rest_channel():
    from bot.report import labels

    assert labels.CHANNEL["webchat"] == "Chat web"
    assert labels.CHANNEL["rest"] != labels.CHANNEL["webchat"]


def test_the_browser_id_comes_from_the_cryptographic_source():
    """The id is the conversation's only secret: Math.random can be predicted."""
    script = (PROJECT_ROOT / "bot" / "dashboard" / "static" / "chat.js").read_text()
    assert "Math.random" not in script
    assert "crypto.getRandomValues(bytes)" in script and "new Uint8Array(16)" in script
