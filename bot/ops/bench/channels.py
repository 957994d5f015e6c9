"""`bousla bench channels`: webhook-to-outbound latency and throughput of WhatsApp and
Telegram, next to Rasa's REST channel, in the same run.

Starts the real stack (`bousla run`) on free ports with a throw-away SQLite database, the
fake Twilio and Telegram APIs (`bot.ops.fakes`) as the providers, and drives N concurrent
conversations of a few turns through each channel in turn:

- REST: time from the POST to the response carrying the replies;
- WhatsApp / Telegram: time from the signed webhook POST to the moment the fake provider
  has accepted the last reply of that turn (same number of replies as over REST).

"Lost" counts replies that never reached the provider (at the end, every inbox row must
be done and every outbox row sent).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
from pathlib import Path

import httpx

from bot.ops.bench.stats import latency_ms, print_rows

SCRIPTS = [
    ["salam", "bghit nl9a khdma"],
    ["Bonjour", "je cherche une formation"],
    ["السلام عليكم", "بغيت نبدا مشروع"],
]
TURN_TIMEOUT = 180.0


class Deliveries:
    """Counts the messages each address received, and wakes whoever waits for a count."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.counts: collections.Counter[str] = collections.Counter()
        self.waiters: dict[str, list[tuple[int, asyncio.Future]]] = collections.defaultdict(list)

    def from_thread(self, address: str) -> None:
        at = time.perf_counter()
        self.loop.call_soon_threadsafe(self._arrived, address, at)

    def _arrived(self, address: str, at: float) -> None:
        self.counts[address] += 1
        still = []
        for target, future in self.waiters[address]:
            if self.counts[address] >= target and not future.done():
                future.set_result(at)
            elif not future.done():
                still.append((target, future))
        self.waiters[address] = still

    async def wait(self, address: str, target: int) -> float | None:
        """perf_counter time at which `address` had `target` messages; None on timeout."""
        if self.counts[address] >= target:
            return time.perf_counter()
        future = self.loop.create_future()
        self.waiters[address].append((target, future))
        try:
            return await asyncio.wait_for(future, TURN_TIMEOUT)
        except asyncio.TimeoutError:
            return None


async def run_rest(client: httpx.AsyncClient, rasa_url: str, conversations: int):
    latencies: list[float] = []
    replies: dict[tuple[int, int], list[int]] = collections.defaultdict(list)

    async def conversation(index: int) -> None:
        script = SCRIPTS[index % len(SCRIPTS)]
        for turn, text in enumerate(script):
            begun = time.perf_counter()
            response = await client.post(
                f"{rasa_url}/webhooks/rest/webhook",
                json={"sender": f"bench-rest-{index}", "message": text},
                timeout=TURN_TIMEOUT,
            )
            latencies.append(time.perf_counter() - begun)
            replies[(index % len(SCRIPTS), turn)].append(len(response.json()))

    begun = time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(conversations)))
    wall = time.perf_counter() - begun
    expected = {
        key: collections.Counter(counts).most_common(1)[0][0] for key, counts in replies.items()
    }
    return latencies, wall, expected


async def run_provider(channel, conversations, expected, deliveries, post):
    """`post(index, turn, text)` sends the webhook; returns (latencies, wall, lost)."""
    latencies: list[float] = []
    lost = 0

    async def conversation(index: int) -> None:
        nonlocal lost
        script = SCRIPTS[index % len(SCRIPTS)]
        target = 0
        for turn, text in enumerate(script):
            target += expected[(index % len(SCRIPTS), turn)]
            begun = time.perf_counter()
            address = await post(index, turn, text)
            arrived = await deliveries.wait(address, target)
            if arrived is None:
                lost += target - deliveries.counts[address]
                return
            latencies.append(arrived - begun)

    begun = time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(conversations)))
    return latencies, time.perf_counter() - begun, lost


def row(label: str, latencies: list[float], wall: float, lost: int) -> dict:
    return {
        "channel": label,
        "turns": len(latencies),
        **latency_ms(latencies, digits=1),
        "turns_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "lost": lost,
    }


async def drive(stack, twilio, telegram, conversations: int) -> list[dict]:
    from bot.ops.fakes.telegram_api import text_update
    from bot.ops.fakes.twilio_api import signed_headers, whatsapp_webhook_form

    loop = asyncio.get_running_loop()
    deliveries = Deliveries(loop)
    twilio.on_accept = deliveries.from_thread
    telegram.on_accept = deliveries.from_thread
    limits = httpx.Limits(max_connections=conversations + 10)
    async with httpx.AsyncClient(limits=limits) as client:
        warmup = {"sender": "bench-warmup", "message": "salam"}
        await client.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=warmup, timeout=120)
        rest, rest_wall, expected = await run_rest(client, stack.rasa_url, conversations)

        whatsapp_url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"

        async def post_whatsapp(index: int, turn: int, text: str) -> str:
            address = f"whatsapp:+2126{index:08d}"
            form = whatsapp_webhook_form(from_number=address, body=text)
            headers = signed_headers(twilio.auth_token, whatsapp_url, form)
            response = await client.post(whatsapp_url, data=form, headers=headers, timeout=60)
            response.raise_for_status()
            return address

        async def post_telegram(index: int, turn: int, text: str) -> str:
            chat_id = 7_000_000 + index
            response = await client.post(
                f"{stack.rasa_url}/webhooks/telegram/webhook",
                json=text_update(chat_id, text),
                headers={"X-Telegram-Bot-Api-Secret-Token": "bench-secret"},
                timeout=60,
            )
            response.raise_for_status()
            return str(chat_id)

        whatsapp = await run_provider(
            "whatsapp", conversations, expected, deliveries, post_whatsapp
        )
        telegram_result = await run_provider(
            "telegram", conversations, expected, deliveries, post_telegram
        )
    return [
        row("rest (Rasa's, baseline)", rest, rest_wall, 0),
        row("whatsapp (webhook→Twilio)", *whatsapp),
        row("telegram (webhook→Bot API)", *telegram_result),
    ]


def unfinished_rows(var_dir: Path) -> dict[str, int]:
    """Inbox rows not done and outbox rows not sent, straight from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{var_dir / 'bousla.db'}", future=True)
    with engine.connect() as connection:
        inbox = connection.execute(
            text("SELECT count(*) FROM inbound_messages WHERE status != 'done'")
        ).scalar()
        outbox = connection.execute(
            text("SELECT count(*) FROM outbound_messages WHERE status NOT IN ('sent', 'delivered')")
        ).scalar()
    engine.dispose()
    return {"inbox_not_done": inbox, "outbox_not_sent": outbox}


def run_benchmark(conversations: int) -> list[dict]:
    from bot.ops.fakes.telegram_api import FakeTelegramAPI
    from bot.ops.fakes.twilio_api import FakeTwilioAPI
    from bot.ops.localstack import Stack
    from bot.ops.training import train

    train(quiet=True)
    with (
        tempfile.TemporaryDirectory(prefix="bousla-bench-") as var_dir,
        FakeTwilioAPI() as twilio,
        FakeTelegramAPI() as telegram,
    ):
        env = {
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
            "TWILIO_BASE_URL": twilio.url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_SECRET_TOKEN": "bench-secret",
            "TELEGRAM_BASE_URL": telegram.url,
        }
        stack = Stack(var_dir=Path(var_dir), extra_env=env).start()
        try:
            rows = asyncio.run(drive(stack, twilio, telegram, conversations))
            time.sleep(1)  # status updates of the last sends
            rows.append(unfinished_rows(Path(var_dir)))
        finally:
            stack.stop()
    return rows


def print_report(rows: list[dict], as_json: bool) -> None:
    print_rows([r for r in rows if "channel" in r], as_json)
    print_rows([r for r in rows if "inbox_not_done" in r], as_json)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "channels", help="WhatsApp and Telegram webhook-to-outbound latency next to REST"
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_report(run_benchmark(args.conversations), as_json=args.json)
    )
