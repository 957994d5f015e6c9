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


def test_the_browser_id_comes_from_the_cryptographic_source():
    """The id is the conversation's only secret: Math.random can be predicted."""
    script = (PROJECT_ROOT / "bot" / "dashboard" / "static" / "chat.js").read_text()
    assert "Math.random" not in script
    assert "crypto.getRandomValues(bytes)" in script and "new Uint8Array(16)" in script
