"""Faults under load, on the real stack: `bousla run --replicas 2` (nginx, two Rasa servers,
two action servers, the dashboard) on a private PostgreSQL cluster and a private Redis
(`bot.ops.scale.private`: never the machine's shared ones), with the fake Twilio API.

One stack for the module (each Rasa server takes ~40 s and ~1.1 GB); each test drives
concurrent WhatsApp conversations through nginx (`bot.ops.bench.load`), breaks something in the
middle, and checks from the database, Rasa's tracker and what Twilio accepted that nothing
was lost, nothing answered twice, and every conversation's replies came in order.

Slow (about 4 minutes): `make test-load` runs it (BOUSLA_LOAD_TESTS=1), not `make test`.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from bot.ops.bench import load
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack, processes_with_marker
from bot.ops.scale.private import PrivatePostgres, PrivateRedis
from bot.storage.models import utcnow
from tests.system_deps import require_system

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("BOUSLA_LOAD_TESTS") != "1",
        reason="load and fault tests run with `make test-load` (BOUSLA_LOAD_TESTS=1)",
    ),
    require_system("nginx", "postgresql-server", "redis-server"),
]

CONVERSATIONS = 20
MESSAGES = 6  # greeting, goal, consent, age, schooling, situation: the profile form


class LoadedStack:
    """The module's stack and what the tests need around it."""

    def __init__(self, stack: Stack, postgres: PrivatePostgres, redis: PrivateRedis, twilio):
        self.stack = stack
        self.postgres = postgres
        self.redis = redis
        self.twilio = twilio
        self.target = load.Target(stack.rasa_url, twilio, public_url=stack.rasa_url)
        self.expected: dict[tuple[int, int], int] = {}
        # One event loop for the module: the reply counters are bound to it.
        self.loop = asyncio.new_event_loop()

    def log_since(self, offset: int) -> str:
        return self.stack.log()[offset:]

    def replica_pid(self, index: int) -> int:
        """The Rasa server process of replica `index` (not the shell honcho wraps it in)."""
        port = str(self.stack.replica_port("rasa", index)).encode()
        for pid in processes_with_marker(self.stack.marker):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[0].endswith(b"python") and b"bot.ops.rasa_server" in argv and port in argv:
                return pid
        raise LookupError(f"no Rasa process for replica {index}")

    def wait_replicas_healthy(self, timeout: float = 300) -> None:
        urls = [
            f"http://127.0.0.1:{self.stack.replica_port(service, index)}{path}"
            for service, path in (("rasa", "/"), ("actions", "/health"))
            for index in (1, 2)
        ]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if all(httpx.get(url, timeout=2).status_code == 200 for url in urls):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise AssertionError(f"replicas not healthy after {timeout} s:\n{self.stack.log()[-3000:]}")

    async def drive(self, strike=None) -> tuple[load.PhaseResult, load.Verdict]:
        """Drive the conversations; `strike(progress)` runs alongside (the fault)."""
        progress = load.Progress()
        driving = load.drive_whatsapp(
            self.target,
            conversations=CONVERSATIONS,
            messages=MESSAGES,
            expected=self.expected,
            progress=progress,
        )
        if strike is None:
            result = await driving
        else:
            result, _ = await asyncio.gather(driving, strike(progress))
        await asyncio.sleep(1.0)  # the last sends' bookkeeping
        verdict = await asyncio.to_thread(
            load.verify, self.postgres.url, self.twilio, result.sent, self.expected
        )
        return result, verdict


# The language of each script of bot.ops.bench.load.SCRIPTS, and what its six turns
# (greeting, goal, yes, age, schooling, situation) must have made Bousla ask, in order.
SCRIPT_LANGUAGES = ["fr", "ary_latn", "ary"]
ASKED_IN_ORDER = [
    "utter_consent_notice",
    "utter_ask_profile_consent",
    "utter_ask_age",
    "utter_ask_education",
    "utter_ask_situation",
]


def openings(domain: dict, response: str, language: str) -> list[str]:
    """The start of each variant of a response in a language (before any slot)."""
    return [
        candidate["text"].split("{")[0].strip().splitlines()[0][:30]
        for candidate in domain["responses"][response]
        if any(c.get("value") == language for c in candidate.get("condition") or [])
    ]


def assert_replies_say_what_each_turn_asks(
    loaded: LoadedStack, result: load.PhaseResult, domain: dict
) -> None:
    """The content of what Twilio accepted for each person, not a count: the consent
    notice and the profile form's questions, in the person's language and in order."""
    conversations = {m.address: m.conversation for m in result.sent}
    for address, conversation in conversations.items():
        language = SCRIPT_LANGUAGES[conversation % len(SCRIPT_LANGUAGES)]
        bodies = [m["Body"] for m in loaded.twilio.sent_to(address)]
        position = 0
        for response in ASKED_IN_ORDER:
            wanted = openings(domain, response, language)
            assert wanted, (response, language)
            found = next(
                (i for i in range(position, len(bodies)) if any(w in bodies[i] for w in wanted)),
                None,
            )
            assert found is not None, (address, language, response, bodies)
            position = found + 1


def assert_nothing_lost_nothing_twice(result: load.PhaseResult, verdict: load.Verdict) -> None:
    report = verdict.as_dict()
    assert result.errors == 0 and result.unanswered_turns == 0, report
    assert verdict.messages == CONVERSATIONS * MESSAGES, report
    assert verdict.lost == 0, report
    assert verdict.processed_twice == 0, report
    assert verdict.out_of_order == 0, report
    assert verdict.replies_expected > verdict.messages  # the first turns get several replies


@pytest.fixture(scope="module")
def loaded(trained_model, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("load-stack")
    with (
        PrivatePostgres() as postgres,
        PrivateRedis() as redis,
        FakeTwilioAPI() as twilio,
    ):
        stack = Stack(
            var_dir=var_dir,
            replicas=2,
            model=trained_model,
            extra_env={
                **load.stack_environment(postgres.url, redis.url, twilio),
                # Provider failures are retried within seconds here (minutes in production).
                "BOUSLA_RETRY_BASE_SECONDS": "0.2",
                "BOUSLA_RETRY_MAX_SECONDS": "2",
            },
        )
        stack.extra_env["PUBLIC_URL"] = stack.rasa_url  # status callbacks carry outbox ids
        here = LoadedStack(stack, postgres, redis, twilio)
        try:
            stack.start(timeout=420)

            async def calibrate() -> dict[tuple[int, int], int]:
                here.target.attach()
                return await load.calibrate(here.target, postgres.url, MESSAGES)

            here.expected = here.loop.run_until_complete(calibrate())
            yield here
        finally:
            stack.stop()
            here.loop.close()


def turns_done_between(
    loaded: LoadedStack, *, arrived_after: datetime.datetime, done_before: datetime.datetime
) -> int:
    """Messages that arrived after `arrived_after` and whose turn Rasa finished before
    `done_before` (times as the inbox stores them: UTC)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(loaded.postgres.url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT count(*) FROM inbound_messages WHERE status = 'done' "
                    "AND received_at > :after AND processed_at < :before"
                ),
                {"after": arrived_after, "before": done_before},
            ).scalar_one()
    finally:
        engine.dispose()


def run(loaded: LoadedStack, coroutine):
    return loaded.loop.run_until_complete(coroutine)


def test_conversations_through_nginx_lose_nothing_and_use_both_replicas(loaded, domain):
    offset = len(loaded.stack.log())
    result, verdict = run(loaded, loaded.drive())
    assert_nothing_lost_nothing_twice(result, verdict)
    assert_replies_say_what_each_turn_asks(loaded, result, domain)
    retried = [m.statuses for m in result.sent if m.attempts > 1]
    assert verdict.sent_twice == 0 and not retried, (verdict.as_dict(), retried)
    log = loaded.log_since(offset)
    access = (loaded.stack.var_dir / "nginx" / "access.log").read_text()
    # Both replicas received webhooks through nginx.
    for index in (1, 2):
        assert f":{loaded.stack.replica_port('rasa', index)} (200)" in access
    assert "Traceback" not in log, log[-3000:]


def test_a_replica_killed_mid_load_loses_nothing(loaded, domain):
    offset = len(loaded.stack.log())

    async def kill_replica_2(progress: load.Progress) -> None:
        await progress.reached(0.3)
        os.kill(loaded.replica_pid(2), signal.SIGKILL)

    result, verdict = run(loaded, loaded.drive(kill_replica_2))
    assert_nothing_lost_nothing_twice(result, verdict)
    assert_replies_say_what_each_turn_asks(loaded, result, domain)
    # At least once to Twilio: a reply can only go twice if the replica died between
    # Twilio's answer and recording it (then its outbox row was tried again).
    assert all(attempts >= 2 for attempts in verdict.duplicate_outbox_attempts), verdict
    log = loaded.log_since(offset)
    assert "rasa-2 stopped (rc=" in log and "starting it again" in log
    loaded.wait_replicas_healthy()  # back for the next tests
    assert loaded.stack.process.poll() is None  # the stack kept running


def test_postgres_restart_mid_load_loses_nothing(loaded, domain):
    offset = len(loaded.stack.log())
    during_outage: dict[str, httpx.Response] = {}

    async def restart_postgres(progress: load.Progress) -> None:
        await progress.reached(0.3)
        await asyncio.to_thread(loaded.postgres.stop)
        # A webhook during the outage is kept in the replica's spool and acknowledged: Twilio
        # does not resend, and nobody here does either (bot.ops.bench.load posts once).
        form = whatsapp_webhook_form(from_number="whatsapp:+212699000001", body="salam")
        url = f"{loaded.stack.rasa_url}/webhooks/whatsapp/webhook"
        headers = signed_headers(loaded.twilio.auth_token, url, form)
        async with httpx.AsyncClient() as client:
            during_outage["spooled"] = await client.post(
                url, data=form, headers=headers, timeout=30
            )
        await asyncio.sleep(6)
        await asyncio.to_thread(loaded.postgres.start)

    result, verdict = run(loaded, loaded.drive(restart_postgres))
    assert_nothing_lost_nothing_twice(result, verdict)
    assert_replies_say_what_each_turn_asks(loaded, result, domain)
    assert during_outage["spooled"].status_code == 200
    assert not [m.statuses for m in result.sent if m.attempts > 1]  # nothing was re-posted
    log = loaded.log_since(offset)
    assert "The database is unavailable (" in log
    assert "kept in the local spool" in log and "spooled message(s) into the inbox" in log
    # The webhook acknowledged during the outage was answered once, after it.
    late = "whatsapp:+212699000001"
    first_turn = loaded.expected[(1, 0)]  # "salam", the second script's greeting
    assert loaded.twilio.wait_until(lambda: len(loaded.twilio.sent_to(late)) >= first_turn, 60)
    time.sleep(1)
    assert len(loaded.twilio.sent_to(late)) == first_turn


def test_redis_unavailable_is_said_clearly_and_work_resumes(loaded, domain):
    offset = len(loaded.stack.log())
    window: dict[str, datetime.datetime] = {}

    async def stop_redis(progress: load.Progress) -> None:
        await progress.reached(0.3)
        await asyncio.to_thread(loaded.redis.stop)
        window["down"] = utcnow()
        await asyncio.sleep(10)
        window["up"] = utcnow()
        await asyncio.to_thread(loaded.redis.start)

    result, verdict = run(loaded, loaded.drive(stop_redis))
    assert_nothing_lost_nothing_twice(result, verdict)
    assert_replies_say_what_each_turn_asks(loaded, result, domain)
    # Webhooks never need Redis: none was refused during the outage...
    assert all(m.statuses == [200] for m in result.sent), verdict.as_dict()
    # ...but no turn is processed without the conversation lock: a message that arrived
    # after Redis stopped cannot have taken its lock before, so it waits for Redis. (Turns
    # that held their lock when Redis stopped may still finish: under load, seconds later.)
    assert turns_done_between(loaded, arrived_after=window["down"], done_before=window["up"]) == 0
    log = loaded.log_since(offset)
    assert "Redis (Rasa's lock store) is unavailable (" in log
    assert "Redis (Rasa's lock store) answers again after" in log
    assert "now failed" not in log  # no message given up


def test_a_storm_of_twilio_errors_is_retried_until_delivered(loaded, domain):
    offset = len(loaded.stack.log())
    storm = 80

    async def storm_of_5xx(progress: load.Progress) -> None:
        await progress.reached(0.3)
        loaded.twilio.fail_next(500, count=storm // 2)
        loaded.twilio.fail_next(503, count=storm // 2)

    result, verdict = run(loaded, loaded.drive(storm_of_5xx))
    assert_nothing_lost_nothing_twice(result, verdict)
    assert_replies_say_what_each_turn_asks(loaded, result, domain)
    assert verdict.sent_twice == 0, verdict.as_dict()
    assert not loaded.twilio._failures  # noqa: SLF001 - every programmed failure was served
    log = loaded.log_since(offset)
    assert log.count("failed (Twilio 50") >= storm // 2, log[-2000:]
