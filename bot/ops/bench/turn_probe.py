"""Where a turn's time goes inside the Rasa server, for `bousla bench turn --breakdown`.

Timers around the steps of a turn: the lock, the tracker load and save, NLU, each graph
component (each policy's prediction), each call to the action server (with the size of
what it sends), the copies of the tracker Rasa makes before each action, and Bousla's
own hook in the tracker store. Each measure is appended to the JSON-lines file named by
`BOUSLA_TURN_TIMINGS`, tagged with the conversation and its turn. `bousla run` installs
these timers (in `bot/ops/rasa_server.py`) only when that variable is set, so a normal
server never pays for it.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import threading
import time
from typing import Any

TURN: contextvars.ContextVar[str | None] = contextvars.ContextVar("turn", default=None)
_lock = threading.Lock()
_turns: dict[str, int] = {}


# The WhatsApp path's own steps (webhook, outbox, Twilio) are tagged with this instead of
# a turn: some run before the turn starts or after it ends.
WHATSAPP_PATH = "whatsapp path"
WEBHOOK_STEP = "webhook (signature, message stored)"


def _record(part: str, seconds: float, turn: str | None = None, **extra: Any) -> None:
    turn = turn or TURN.get()
    if turn is None:
        return
    line = json.dumps({"turn": turn, "part": part, "ms": round(seconds * 1000, 3), **extra})
    with _lock, open(os.environ["BOUSLA_TURN_TIMINGS"], "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _time_async(owner: type, name: str, part: str, turn: str | None = None) -> None:
    """Time the coroutine method `owner.name` (a static one stays static), tagged with the
    turn under way, or with `turn`."""
    static = isinstance(owner.__dict__.get(name), staticmethod)
    original = getattr(owner, name)  # a static method comes back as a plain function

    @functools.wraps(original)
    async def timed(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _record(part, time.perf_counter() - begun, turn=turn)

    setattr(owner, name, staticmethod(timed) if static else timed)


def _time_sync(owner: Any, name: str, part: str) -> None:
    """Time `owner.name` (a method, or a module's function)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            _record(part, time.perf_counter() - begun)

    setattr(owner, name, timed)


def install() -> None:
    """Put the timers in place (before Rasa loads the model and the stores)."""
    from rasa.core import processor as processor_module
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    from bot.storage import rasa_stores

    handle = Agent.handle_message

    @functools.wraps(handle)
    async def handle_message(self, message):
        sender = message.sender_id or "?"
        with _lock:
            _turns[sender] = _turns.get(sender, 0) + 1
            number = _turns[sender]
        token = TURN.set(f"{sender}#{number}")
        begun = time.perf_counter()
        try:
            return await handle(self, message)
        finally:
            _record("turn (lock included)", time.perf_counter() - begun)
            TURN.reset(token)

    Agent.handle_message = handle_message
    processor = processor_module.MessageProcessor
    _time_async(processor, "handle_message", "turn inside the lock")
    _time_async(processor, "fetch_tracker_and_update_session", "tracker load")
    _time_async(processor, "save_tracker", "tracker save")
    _time_async(processor, "parse_message", "NLU (parse)")
    _time_async(processor, "_send_bot_messages", "replies to the output channel")

    remote_run = RemoteAction.run

    @functools.wraps(remote_run)
    async def run_remote(self, output_channel, nlg, tracker, domain):
        begun = time.perf_counter()
        try:
            return await remote_run(self, output_channel, nlg, tracker, domain)
        finally:
            _record(f"action server: {self.name()}", time.perf_counter() - begun)

    RemoteAction.run = run_remote

    request = EndpointConfig.request

    @functools.wraps(request)
    async def sized_request(self, *args, **kwargs):
        payload = kwargs.get("json")
        if payload is not None:
            _record(
                "action server payload",
                0.0,
                bytes=len(json.dumps(payload)),
                events=len(payload.get("tracker", {}).get("events", [])),
            )
        return await request(self, *args, **kwargs)

    EndpointConfig.request = sized_request

    node_call = GraphNode.__call__

    @functools.wraps(node_call)
    def call_node(self, *args, **kwargs):
        begun = time.perf_counter()
        try:
            return node_call(self, *args, **kwargs)
        finally:
            _record(f"graph: {self._node_name}", time.perf_counter() - begun)

    GraphNode.__call__ = call_node

    _time_sync(DialogueStateTracker, "copy", "tracker copy before an action")
    _time_whatsapp_path()
    _time_sync(rasa_stores, "erasure_confirmed", "Bousla hook: erasure check on save")


def _time_whatsapp_path() -> None:
    """The steps a WhatsApp message takes besides the turn: the webhook (signature checked,
    message stored), the lookup of the numbered choices offered before, each reply written
    to the outbox, sent to Twilio and recorded as sent."""
    from bot.channels import worker
    from bot.channels.base import OutboxOutput
    from bot.channels.whatsapp import WhatsAppInput, WhatsAppSender

    for owner, name, part in [
        (WhatsAppInput, "webhook", WEBHOOK_STEP),
        (WhatsAppInput, "read_text", "numbered choices offered before"),
        (OutboxOutput, "enqueue", "reply written to the outbox"),
        (WhatsAppSender, "send", "reply sent to Twilio"),
        (worker.ChannelWorker, "_store_result", "result recorded (reply sent, message done)"),
    ]:
        _time_async(owner, name, part, turn=WHATSAPP_PATH)
