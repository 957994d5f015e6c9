"""A real Sanic server with Bousla's channels, registered the way Rasa registers them,
with a small scripted bot in place of Rasa's agent (the real agent is used in
test_channel_restart_e2e.py and by `bousla bench channels`)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from bot.channels.worker import ChannelWorker, get_worker, reset_worker
from bot.ops.fakes.twilio_api import signed_headers
from tests.conftest import free_port

# Several Sanic apps are started in one test process (Sanic then skips its one-time
# source rewriting, which fails on a second app).
Sanic.test_mode = True

MENU = [
    {"title": "💼 Trouver un travail", "payload": "/seek_job"},
    {"title": "🎓 Trouver une formation", "payload": "/seek_training"},
    {"title": "🗣️ Parler à quelqu'un", "payload": "/ask_human"},
]
MENU_ARY = [
    {"title": "💼 نلقى خدمة", "payload": "/seek_job"},
    {"title": "🎓 نلقى تكوين", "payload": "/seek_training"},
    {"title": "🗣️ نهضر مع شي حد", "payload": "/ask_human"},
]


@dataclass
class ScriptedBot:
    """Answers like a tiny Rasa: "menu" (or "القائمة") gives buttons, media get a media
    answer, "silence" gets nothing (as when a counsellor holds the conversation)."""

    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        output, sender = message.output_channel, message.sender_id
        text = message.text or ""
        if text.startswith("/media_received"):
            kind = json.loads(text.removeprefix("/media_received"))["media_kind"]
            await output.send_text_message(sender, f"media:{kind}")
        elif text == "menu":
            await output.send_text_with_buttons(sender, "Je peux t'aider à :", MENU)
        elif text == "القائمة":
            await output.send_text_with_buttons(sender, "نقدر نعاونك باش:", MENU_ARY)
        elif text == "silence":
            return
        elif text == "three":
            for number in (1, 2, 3):
                await output.send_text_message(sender, f"reply {number}")
        elif text.startswith("long"):
            await output.send_text_message(sender, "Une phrase assez longue pour compter. " * 120)
        else:
            await output.send_text_message(sender, f"echo:{text}")

    def texts(self) -> list[str]:
        return [m.text for m in self.received]


@dataclass
class ChannelServer:
    app: Sanic
    server: object
    port: int
    worker: ChannelWorker

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        await self.server.before_stop()
        await self.worker.stop()
        # What Sanic's own shutdown does: close idle connections, then abort the rest.
        for connection in list(self.server.connections):
            connection.close_if_idle()
        self.server.close()
        try:
            await asyncio.wait_for(self.server.wait_closed(), timeout=2)
        except asyncio.TimeoutError:
            for connection in list(self.server.connections):
                connection.abort()
        await self.server.after_stop()

    async def post_whatsapp(
        self,
        form: dict[str, str],
        auth_token: str | None,
        path: str = "webhook",
        url: str | None = None,
    ) -> httpx.Response:
        target = f"{self.url}/webhooks/whatsapp/{path}"
        headers = (
            signed_headers(auth_token, url or target, form)
            if auth_token
            else {"Content-Type": "application/x-www-form-urlencoded"}
        )
        async with httpx.AsyncClient() as client:
            return await client.post(target, data=form, headers=headers, timeout=10)

    async def post_telegram(self, update: dict, secret: str | None) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with httpx.AsyncClient() as client:
            return await client.post(
                f"{self.url}/webhooks/telegram/webhook", json=update, headers=headers, timeout=10
            )


async def start_channel_server(
    channels: list[InputChannel],
    bot: ScriptedBot,
    agent: object | None = None,
    cors: bool = False,
) -> ChannelServer:
    """Channels served on a free port, their worker running (after_server_start).

    `agent` stands for Rasa's agent in `app.ctx` (its `is_ready` and `tracker_store`);
    `cors`: any origin may call, as `rasa run --cors "*"` allows (the web chat page).
    """
    reset_worker()
    app = Sanic(f"bousla-test-{uuid.uuid4().hex[:8]}", configure_logging=False)
    if cors:
        from sanic_cors import CORS

        CORS(app, resources={r"/*": {"origins": "*"}}, automatic_options=True)
    if agent is not None:
        app.ctx.agent = agent

    @app.route("/")
    async def root(_request):
        from sanic import response

        return response.text("ok")

    # The same registration as Rasa's server, with the scripted bot as the agent.
    original_handler = bot

    async def handler(message: UserMessage) -> None:
        await original_handler(message)

    register(channels, app, route="/webhooks/")
    # Rasa's `register` closes over app.ctx.agent; point our channels at the script instead.
    worker = get_worker()
    for name, (channel, _) in list(worker.inputs.items()):
        worker.inputs[name] = (channel, handler)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    await server.after_start()
    return ChannelServer(app=app, server=server, port=port, worker=worker)


async def wait_for(condition, timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll `condition()` without blocking the event loop the server runs on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if condition():
            return True
        await asyncio.sleep(interval)
    return condition()
