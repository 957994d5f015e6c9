"""`bousla bench load`: many concurrent WhatsApp conversations through the load balancer.

For each replica count asked (default 2, then 1), starts the real stack with
`bousla run --replicas N` (nginx in front of N Rasa servers and N action servers) on a
private PostgreSQL cluster and a private Redis (`bot.ops.scale.private`, never the machine's
shared ones), with the fake Twilio API (`bot.ops.fakes`) as the provider, and in the same run:

1. REST baseline: the conversations through Rasa's REST channel, via nginx;
2. WhatsApp: the same conversations as signed Twilio webhooks to nginx; each person waits
   for the replies to a message before writing the next one (as people do).

Then it checks, from the database, the tracker and what the fake Twilio accepted:
nothing lost (every webhook persisted and processed, every reply accepted by Twilio),
nothing answered twice (no message processed twice, no reply sent twice), and each
conversation's replies in order. Webhooks answered with a 5xx or not answered are posted
again with the same MessageSid, as Twilio does; latency counts from the first attempt.

The fault tests (tests/test_faults_load.py) drive the same conversations with
`drive_whatsapp` and check them with `verify`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.ops.bench.channels import Deliveries
from bot.ops.bench.stats import cpu_ms_per_turn, cpu_seconds_by_kind, percentile, print_rows

# Ten messages a conversation: greeting, goal, consent, the profile form, programme
# suggestions, then small talk and goodbye; in the three languages.
SCRIPTS = [
    ["Bonjour", "je cherche du travail", "oui", "22 ans", "bac", "je cherche du travail",
     "Ain Harrouda", "merci", "c'est où le centre ?", "au revoir"],
    ["salam", "bghit nl9a khdma", "ah", "3andi 24 3am", "bac", "kan9leb 3la khdma",
     "ain harrouda", "choukran", "fin kayn lmarkaz?", "bslama"],
    ["السلام عليكم", "بغيت نلقى خدمة", "اه", "عندي 20 عام", "باك", "كنقلب على خدمة",
     "عين حرودة", "شكرا", "فين كاين المركز؟", "بسلامة"],
]  # fmt: skip
TURN_TIMEOUT = 240.0  # a turn waits this long for its replies, then counts them as lost
SENT_STATUSES = ("sent", "delivered", "read")
OUTBOUND_ID = re.compile(r"[?&]outbound=(\d+)")


def script_text(conversation: int, turn: int) -> str:
    script = SCRIPTS[conversation % len(SCRIPTS)]
    return script[turn % len(script)]


def expected_key(conversation: int, turn: int) -> tuple[int, int]:
    return (conversation % len(SCRIPTS), turn)


# ---------------------------------------------------------------- driving


@dataclasses.dataclass
class SentMessage:
    sid: str
    address: str
    conversation: int
    turn: int
    first_post: float  # perf_counter of the first attempt
    attempts: int = 0
    accepted: bool = False  # a 2xx came back in the end
    statuses: list[int | str] = dataclasses.field(default_factory=list)
    replied_at: float | None = None  # perf_counter when the turn's last reply was accepted


@dataclasses.dataclass
class Progress:
    """How far a phase is; fault tests wait on it to strike in the middle of the load."""

    total: int = 0
    posted: int = 0
    answered: int = 0

    async def reached(self, fraction: float, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.answered < fraction * self.total:
            if time.monotonic() > deadline:
                raise TimeoutError(f"load stuck at {self.answered}/{self.total} answered turns")
            await asyncio.sleep(0.05)


@dataclasses.dataclass
class PhaseResult:
    label: str
    latencies: list[float]
    wall: float
    sent: list[SentMessage] = dataclasses.field(default_factory=list)
    unanswered_turns: int = 0
    errors: int = 0


class Replies(Deliveries):
    """What the fake Twilio accepted, per address; waits with a timeout of our own."""

    async def wait(self, address: str, target: int, timeout: float = TURN_TIMEOUT) -> float | None:
        if self.counts[address] >= target:
            return time.perf_counter()
        future = self.loop.create_future()
        self.waiters[address].append((target, future))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None


class Target:
    """Where the load goes: the load balancer's URL and the fake Twilio behind the stack."""

    def __init__(self, url: str, twilio: Any, public_url: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.twilio = twilio
        # The URL Twilio signs: PUBLIC_URL when the stack has one.
        self.signed_root = (public_url or url).rstrip("/")
        self.deliveries: Replies | None = None

    def attach(self) -> Replies:
        """Count what the fake Twilio accepts, per address (call inside the event loop)."""
        self.deliveries = Replies(asyncio.get_running_loop())
        self.twilio.on_accept = self.deliveries.from_thread
        return self.deliveries


async def post_webhook(
    client: httpx.AsyncClient, target: Target, message: SentMessage, text: str
) -> None:
    """Post one signed webhook, once, as Twilio does by default: no resending after a 5xx
    or no answer, so that "nothing lost" is proven by Bousla (its spool, nginx trying
    another replica), not by the load driver."""
    from bot.ops.fakes.twilio_api import signed_headers, whatsapp_webhook_form

    form = whatsapp_webhook_form(from_number=message.address, body=text, message_sid=message.sid)
    path = "/webhooks/whatsapp/webhook"
    headers = signed_headers(target.twilio.auth_token, target.signed_root + path, form)
    message.attempts += 1
    try:
        response = await client.post(target.url + path, data=form, headers=headers, timeout=30)
    except httpx.HTTPError as error:
        message.statuses.append(type(error).__name__)
        return  # never acknowledged: counted as lost by `verify`
    message.statuses.append(response.status_code)
    message.accepted = response.status_code < 300


async def drive_whatsapp(
    target: Target,
    *,
    conversations: int,
    messages: int,
    expected: dict[tuple[int, int], int],
    label: str = "whatsapp",
    progress: Progress | None = None,
    address_prefix: str | None = None,
) -> PhaseResult:
    """`conversations` people at once, `messages` each, one after the other's replies."""
    deliveries = target.deliveries or target.attach()
    progress = progress or Progress()
    progress.total += conversations * messages
    prefix = address_prefix or f"{uuid.uuid4().int % 900 + 100}"
    result = PhaseResult(label=label, latencies=[], wall=0.0)
    limits = httpx.Limits(max_connections=conversations + 10, max_keepalive_connections=64)

    async def conversation(client: httpx.AsyncClient, index: int) -> None:
        address = f"whatsapp:+212{prefix}{index:06d}"
        target_count = 0
        for turn in range(messages):
            message = SentMessage(
                sid="SM" + uuid.uuid4().hex,
                address=address,
                conversation=index,
                turn=turn,
                first_post=time.perf_counter(),
            )
            result.sent.append(message)
            await post_webhook(client, target, message, script_text(index, turn))
            progress.posted += 1
            if not message.accepted:
                result.errors += 1
                return
            target_count += expected[expected_key(index, turn)]
            arrived = await deliveries.wait(address, target_count, timeout=TURN_TIMEOUT)
            if arrived is None:
                result.unanswered_turns += messages - turn
                return
            message.replied_at = arrived
            result.latencies.append(arrived - message.first_post)
            progress.answered += 1

    begun = time.perf_counter()
    async with httpx.AsyncClient(limits=limits) as client:
        await asyncio.gather(*(conversation(client, i) for i in range(conversations)))
    result.wall = time.perf_counter() - begun
    return result


async def drive_rest(url: str, *, conversations: int, messages: int) -> PhaseResult:
    """The same conversations through Rasa's REST channel (the baseline)."""
    result = PhaseResult(label="rest", latencies=[], wall=0.0)
    run = uuid.uuid4().hex[:6]
    limits = httpx.Limits(max_connections=conversations + 10)

    async def conversation(client: httpx.AsyncClient, index: int) -> None:
        for turn in range(messages):
            begun = time.perf_counter()
            try:
                response = await client.post(
                    f"{url}/webhooks/rest/webhook",
                    json={"sender": f"load-{run}-{index}", "message": script_text(index, turn)},
                    timeout=TURN_TIMEOUT,
                )
                response.raise_for_status()
            except httpx.HTTPError:
                result.errors += 1
                continue
            result.latencies.append(time.perf_counter() - begun)

    begun = time.perf_counter()
    async with httpx.AsyncClient(limits=limits) as client:
        await asyncio.gather(*(conversation(client, i) for i in range(conversations)))
    result.wall = time.perf_counter() - begun
    return result


# ---------------------------------------------------------------- checking


def _engine(database_url: str):
    from sqlalchemy import create_engine

    return create_engine(database_url, future=True, pool_size=1, max_overflow=0)


async def calibrate(target: Target, database_url: str, messages: int) -> dict[tuple[int, int], int]:
    """How many replies each turn of each script gets, through WhatsApp itself: one
    conversation per script, one message at a time, waiting until the database says the
    message is processed and all its replies sent."""
    from sqlalchemy import text

    engine = _engine(database_url)
    expected: dict[tuple[int, int], int] = {}
    prefix = f"{uuid.uuid4().int % 900 + 100}"
    try:
        async with httpx.AsyncClient() as client:
            for script in range(len(SCRIPTS)):
                address = f"whatsapp:+212{prefix}{script:06d}"
                for turn in range(messages):
                    message = SentMessage("SM" + uuid.uuid4().hex, address, script, turn, 0.0)
                    await post_webhook(client, target, message, script_text(script, turn))
                    if not message.accepted:
                        raise RuntimeError(f"calibration webhook refused: {message.statuses}")
                    deadline = time.monotonic() + TURN_TIMEOUT
                    while True:
                        with engine.connect() as connection:
                            row = connection.execute(
                                text(
                                    "SELECT id, status FROM inbound_messages "
                                    "WHERE provider_message_id = :sid"
                                ),
                                {"sid": message.sid},
                            ).first()
                            replies = []
                            if row is not None:
                                replies = connection.execute(
                                    text(
                                        "SELECT status FROM outbound_messages "
                                        "WHERE idempotency_key LIKE :key"
                                    ),
                                    {"key": f"in:{row.id}:%"},
                                ).scalars().all()  # fmt: skip
                        if (
                            row is not None
                            and row.status == "done"
                            and all(status in SENT_STATUSES for status in replies)
                        ):
                            expected[(script, turn)] = len(replies)
                            break
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"calibration turn {turn} of script {script} stuck")
                        await asyncio.sleep(0.05)
    finally:
        engine.dispose()
    return expected


@dataclasses.dataclass
class Verdict:
    messages: int
    lost_webhooks: int  # never acknowledged, or acknowledged and not in the inbox
    unprocessed: int  # in the inbox, not done
    replies_expected: int
    replies_unsent: int  # in the outbox, not accepted by Twilio
    replies_missing: int  # expected by the conversation, never delivered
    processed_twice: int  # one message id twice in the tracker
    sent_twice: int  # one outbox row accepted twice by Twilio
    out_of_order: int  # conversations whose replies arrived out of order
    retried_webhooks: int  # webhooks that needed more than one attempt
    duplicate_outbox_attempts: list[int] = dataclasses.field(default_factory=list)
    # What the webhooks never acknowledged got instead (an HTTP status or the client's error).
    unacknowledged: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def lost(self) -> int:
        return self.lost_webhooks + self.unprocessed + self.replies_unsent + self.replies_missing

    @property
    def answered_twice(self) -> int:
        return self.processed_twice + self.sent_twice

    def as_dict(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "lost": self.lost,
            "answered_twice": self.answered_twice,
        }


def verify(
    database_url: str,
    twilio: Any,
    sent: list[SentMessage],
    expected: dict[tuple[int, int], int],
) -> Verdict:
    """Check the phase's conversations against the database, the tracker and Twilio."""
    import json

    from sqlalchemy import text

    engine = _engine(database_url)
    try:
        with engine.connect() as connection:
            inbound = {
                row.provider_message_id: row
                for row in connection.execute(
                    text(
                        "SELECT id, provider_message_id, person_id, status FROM inbound_messages "
                        "WHERE channel = 'whatsapp'"
                    )
                )
            }
            outbound = {
                row.id: row
                for row in connection.execute(
                    text(
                        "SELECT id, idempotency_key, status, attempts FROM outbound_messages "
                        "WHERE channel = 'whatsapp'"
                    )
                )
            }
            user_events = collections.Counter()
            for (data,) in connection.execute(
                text("SELECT data FROM events WHERE type_name = 'user'")
            ):
                message_id = json.loads(data).get("message_id")
                if message_id:
                    user_events[message_id] += 1
    finally:
        engine.dispose()

    ours = {m.sid: m for m in sent}
    lost_webhooks = sum(1 for m in sent if not m.accepted or m.sid not in inbound)
    unprocessed = sum(1 for m in sent if m.sid in inbound and inbound[m.sid].status != "done")
    processed_twice = sum(
        1 for sid in ours if user_events.get(f"whatsapp:{sid}", 0) > 1
    )  # fmt: skip

    # Replies of our messages: outbox rows keyed in:<inbound id>:<n>.
    inbound_of_id = {row.id: sid for sid, row in inbound.items() if sid in ours}
    replies_of: dict[int, int] = {}  # outbox id -> inbound id
    for row in outbound.values():
        key = row.idempotency_key or ""
        if key.startswith("in:"):
            inbound_id = int(key.split(":")[1])
            if inbound_id in inbound_of_id:
                replies_of[row.id] = inbound_id
    replies_unsent = sum(1 for oid in replies_of if outbound[oid].status not in SENT_STATUSES)

    accepted = collections.Counter()
    by_address: dict[str, list[int]] = collections.defaultdict(list)
    for record in list(twilio.messages):
        match = OUTBOUND_ID.search(record.get("StatusCallback", ""))
        if match and int(match[1]) in replies_of:
            accepted[int(match[1])] += 1
            by_address[record["To"]].append(int(match[1]))
    sent_twice = sum(1 for count in accepted.values() if count > 1)
    duplicates = sorted(oid for oid, count in accepted.items() if count > 1)

    per_address_expected = collections.Counter()
    for message in sent:
        if message.accepted:
            per_address_expected[message.address] += expected[
                expected_key(message.conversation, message.turn)
            ]
    replies_expected = sum(per_address_expected.values())
    replies_missing = sum(
        max(0, count - len(set(by_address.get(address, []))))
        for address, count in per_address_expected.items()
    )

    out_of_order = 0
    for ids in by_address.values():
        first_seen = list(dict.fromkeys(ids))  # a duplicate send does not reorder
        inbound_ids = [replies_of[oid] for oid in first_seen]
        if first_seen != sorted(first_seen) or inbound_ids != sorted(inbound_ids):
            out_of_order += 1

    return Verdict(
        messages=len(sent),
        lost_webhooks=lost_webhooks,
        unprocessed=unprocessed,
        replies_expected=replies_expected,
        replies_unsent=replies_unsent,
        replies_missing=replies_missing,
        processed_twice=processed_twice,
        sent_twice=sent_twice,
        out_of_order=out_of_order,
        retried_webhooks=sum(1 for m in sent if m.attempts > 1),
        duplicate_outbox_attempts=[outbound[oid].attempts for oid in duplicates],
        unacknowledged=dict(
            collections.Counter(str(m.statuses[-1]) for m in sent if not m.accepted and m.statuses)
        ),
    )


# ---------------------------------------------------------------- the benchmark


def row(replicas: int, channel: str, phase: PhaseResult, verdict: Verdict | None) -> dict:
    latencies = phase.latencies
    return {
        "replicas": replicas,
        "channel": channel,
        "turns": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        "msgs_per_s": round(len(latencies) / phase.wall, 2) if phase.wall else 0.0,
        "errors": phase.errors,
        "lost": verdict.lost if verdict else "",
        "answered_twice": verdict.answered_twice if verdict else "",
        "out_of_order": verdict.out_of_order if verdict else "",
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def stack_environment(database_url: str, redis_url: str, twilio: Any) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
        "TWILIO_BASE_URL": twilio.url,
        "TELEGRAM_BOT_TOKEN": "",
    }


def run_benchmark(
    conversations: int,
    messages: int,
    replica_counts: list[int],
    rest: bool = True,
    say: Callable[[str], None] = print,
) -> list[dict]:
    from bot.ops.fakes.twilio_api import FakeTwilioAPI
    from bot.ops.localstack import Stack
    from bot.ops.scale.private import PrivatePostgres, PrivateRedis
    from bot.ops.training import train

    model = train(quiet=True)  # this file for every stack, even if the data changes meanwhile
    rows: list[dict] = []
    with PrivatePostgres() as postgres, PrivateRedis() as redis:
        for replicas in replica_counts:
            database_url = postgres.create_database(f"bench_{replicas}_{uuid.uuid4().hex[:6]}")
            with (
                tempfile.TemporaryDirectory(prefix="bousla-load-") as var_dir,
                FakeTwilioAPI() as twilio,
            ):
                stack = Stack(
                    var_dir=Path(var_dir),
                    replicas=replicas,
                    model=model,
                    extra_env=stack_environment(database_url, redis.url, twilio),
                )
                stack.extra_env["PUBLIC_URL"] = stack.rasa_url
                started = time.monotonic()
                say(f"[{replicas} replica(s)] starting the stack (load {load_average()})...")
                stack.start()
                say(f"[{replicas} replica(s)] ready in {time.monotonic() - started:.0f} s")
                try:
                    rows += asyncio.run(
                        _measure(stack, twilio, database_url, replicas, conversations, messages,
                                 rest, say, postgres.postmaster_pid())
                    )  # fmt: skip
                finally:
                    stack.stop()
    return rows


async def _measure(stack, twilio, database_url, replicas, conversations, messages, rest, say,
                   postmaster: int):  # fmt: skip
    target = Target(stack.rasa_url, twilio, public_url=stack.rasa_url)
    target.attach()
    expected = await calibrate(target, database_url, messages)
    say(f"[{replicas} replica(s)] replies per turn: {dict(sorted(expected.items()))}")
    rows = []
    if rest:
        load_before, cpu_before = load_average(), cpu_seconds_by_kind(postmaster)
        phase = await drive_rest(stack.rasa_url, conversations=conversations, messages=messages)
        cpu = cpu_ms_per_turn(cpu_before, cpu_seconds_by_kind(postmaster), len(phase.latencies))
        rows.append({**row(replicas, "rest (Rasa's, via nginx)", phase, None),
                     "cpu_ms_per_turn": cpu.get("all", ""),
                     "load_avg": f"{load_before} → {load_average()}"})  # fmt: skip
        say(f"[{replicas} replica(s)] REST done in {phase.wall:.0f} s; CPU ms per turn: {cpu}")
    load_before, cpu_before = load_average(), cpu_seconds_by_kind(postmaster)
    phase = await drive_whatsapp(
        target, conversations=conversations, messages=messages, expected=expected
    )
    await asyncio.sleep(1.0)  # the last sends' bookkeeping
    cpu = cpu_ms_per_turn(cpu_before, cpu_seconds_by_kind(postmaster), len(phase.latencies))
    verdict = verify(database_url, twilio, phase.sent, expected)
    rows.append({**row(replicas, "whatsapp (webhook→Twilio)", phase, verdict),
                 "cpu_ms_per_turn": cpu.get("all", ""),
                 "load_avg": f"{load_before} → {load_average()}"})  # fmt: skip
    say(f"[{replicas} replica(s)] WhatsApp done in {phase.wall:.0f} s: {verdict.as_dict()}; "
        f"CPU ms per turn: {cpu}")  # fmt: skip
    return rows


def print_report(rows: list[dict], as_json: bool) -> int:
    print(f"machine: {os.cpu_count()} cores, load average now {load_average()}")
    print_rows(rows, as_json)
    failed = [r for r in rows if r.get("lost") or r.get("answered_twice") or r.get("out_of_order")]
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load",
        help="concurrent WhatsApp conversations through nginx and N replicas, next to REST",
    )
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=10, help="messages per conversation")
    parser.add_argument(
        "--replicas",
        default="2,1",
        help="replica counts to measure one after the other (default 2,1)",
    )
    parser.add_argument("--no-rest", action="store_true", help="skip the REST baseline")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_report(
            run_benchmark(
                args.conversations,
                args.messages,
                [int(n) for n in args.replicas.split(",") if n.strip()],
                rest=not args.no_rest,
            ),
            as_json=args.json,
        )
    )
