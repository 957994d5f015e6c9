"""`bousla bench turn`: the cost of one turn, next to Rasa's own starter bot in the same run.

Trains Rasa's starter bot (`rasa init`, kept in var/bench/starter-<rasa version>) and runs it
beside the real Bousla stack (`bousla run`, throw-away SQLite database, fake Twilio). Then,
one message at a time and answering in turn:

- REST: a message to the starter bot, then one to Bousla, through Rasa's REST channel;
- WhatsApp: a signed Twilio webhook to Bousla until the fake Twilio has accepted the turn's
  last reply, each followed by the same kind of turn over REST (the pair is compared);
- growth: one Bousla conversation of `--long` turns over REST, the median turn near its
  start, near turn 100 and at its end;
- memory: resident memory of both Rasa servers afterwards.

With `--breakdown` (the default), Bousla is started a second time with the timers of
`bot/ops/bench/turn_probe.py` and the same turns are replayed: the mean time per turn of each
step (lock, tracker load and save, NLU, each policy, each action-server call and what it
sends, the tracker copies, Bousla's hooks), early and late in the long conversation.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bot.ops.bench.stats import latency_ms, print_rows
from bot.ops.bench.turn_probe import WEBHOOK_STEP, WHATSAPP_PATH

STARTER_MESSAGES = ["hello", "I am sad", "yes", "great", "goodbye", "are you a bot?", "no"]
BOUSLA_MESSAGES = [
    "salam",
    "bghit nl9a khdma",
    "Bonjour",
    "je cherche une formation",
    "السلام عليكم",
    "بغيت نبدا مشروع",
    "kayn chi tamwil l projet?",
    "fin kayn lmarkaz?",
    "merci",
    "chno howa forsa?",
]
# One long conversation: questions, small words and menus, never a request for a counsellor
# (that would silence the bot) nor an erasure.
LONG_MESSAGES = [
    "salam",
    "bghit nl9a khdma",
    "chno howa forsa?",
    "merci",
    "je cherche une formation",
    "kifach ntsjel f ofppt?",
    "ok",
    "menu",
    "fin kayn lmarkaz?",
    "wakha",
]
WINDOW = len(LONG_MESSAGES)
TURN_TIMEOUT = 120.0


def starter_dir() -> Path:
    import rasa

    from bot.settings import get_settings

    return get_settings().var_dir / "bench" / f"starter-{rasa.__version__}"


def prepare_starter(quiet: bool = True) -> Path:
    """Rasa's starter bot, created and trained once by `rasa init --no-prompt`."""
    directory = starter_dir()
    if not list((directory / "models").glob("*.tar.gz")):
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        print(f"Training Rasa's starter bot in {directory} (once)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(directory)],
            cwd=directory.parent,
            check=True,
            stdout=subprocess.DEVNULL if quiet else None,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        )
    return directory


class StarterBot:
    """Rasa's starter bot served by `rasa run`, with the same options as Bousla's server."""

    def __init__(self, directory: Path) -> None:
        from bot.ops.localstack import free_port

        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 600) -> StarterBot:
        self.log = (self.directory / "bench-server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--cors", "*",
             "--auth-token", uuid.uuid4().hex, "--interface", "127.0.0.1",
             "--port", str(self.port), "--model", "models",
             "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
            cwd=self.directory,
            env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the starter bot's server exited early")
            try:
                if httpx.get(f"{self.url}/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"the starter bot was not ready in {timeout} s")

    def rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return round(kb / 1024, 1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def rest_turn(client: httpx.AsyncClient, url: str, sender: str, text: str):
    begun = time.perf_counter()
    response = await client.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        timeout=TURN_TIMEOUT,
    )
    response.raise_for_status()
    return time.perf_counter() - begun, len(response.json())


async def drive(stack, starter: StarterBot | None, twilio, turns: int, long: int) -> dict:
    from bot.ops.bench.channels import Deliveries
    from bot.ops.fakes.twilio_api import signed_headers, whatsapp_webhook_form

    deliveries = Deliveries(asyncio.get_running_loop())
    twilio.on_accept = deliveries.from_thread
    run = uuid.uuid4().hex[:6]
    figures: dict[str, list[float]] = collections.defaultdict(list)
    async with httpx.AsyncClient() as client:
        for url in [stack.rasa_url] + ([starter.url] if starter else []):
            await rest_turn(client, url, f"warmup-{run}", "hello")

        # REST, answering in turn: starter bot, then Bousla.
        for index in range(turns):
            person = index // len(BOUSLA_MESSAGES)
            rounds = [("Bousla REST", stack.rasa_url, "rest", BOUSLA_MESSAGES)]
            if starter:
                rounds.insert(0, ("starter REST", starter.url, "starter", STARTER_MESSAGES))
            for label, url, prefix, messages in rounds:
                seconds, _ = await rest_turn(
                    client, url, f"{prefix}-{run}-{person}", messages[index % len(messages)]
                )
                figures[label].append(seconds)

        # WhatsApp, each turn paired with the same turn over REST in another conversation.
        whatsapp_url = f"{stack.rasa_url}/webhooks/whatsapp/webhook"
        received: collections.Counter[str] = collections.Counter()
        for index in range(turns):
            person = index // len(BOUSLA_MESSAGES)
            text = BOUSLA_MESSAGES[index % len(BOUSLA_MESSAGES)]
            seconds, replies = await rest_turn(client, stack.rasa_url, f"pair-{run}-{person}", text)
            figures["Bousla REST (paired)"].append(seconds)
            address = f"whatsapp:+2126{abs(hash((run, person))) % 10**8:08d}"
            form = whatsapp_webhook_form(from_number=address, body=text)
            headers = signed_headers(twilio.auth_token, whatsapp_url, form)
            received[address] += replies
            begun = time.perf_counter()
            response = await client.post(
                whatsapp_url, data=form, headers=headers, timeout=TURN_TIMEOUT
            )
            response.raise_for_status()
            arrived = await deliveries.wait(address, received[address])
            if arrived is None:
                figures["WhatsApp lost turns"].append(1.0)
                received[address] = deliveries.counts[address]
                continue
            figures["Bousla WhatsApp"].append(arrived - begun)

        # One long conversation.
        per_turn = []
        for index in range(long):
            seconds, _ = await rest_turn(
                client, stack.rasa_url, f"long-{run}", LONG_MESSAGES[index % WINDOW]
            )
            per_turn.append(seconds)
        figures["long"] = per_turn
    return figures


def growth_windows(long: int) -> dict[str, range]:
    """Windows of one cycle of LONG_MESSAGES (same mix of messages) at the start, around
    turn 100 and at the end of the long conversation (1-based turn numbers)."""
    windows = {"early (turns 1-10)": range(1, WINDOW + 1)}
    if long >= 100:
        windows["turn 100 (91-100)"] = range(91, 101)
    if long > 100 + WINDOW:
        windows[f"late ({long - WINDOW + 1}-{long})"] = range(long - WINDOW + 1, long + 1)
    return windows


def breakdown(timings: Path, senders: dict[str, range] | None = None) -> list[dict]:
    """Mean milliseconds per turn of each step, over the turns named by `senders`
    (conversation prefix → turn numbers), or over all turns."""
    totals: dict[str, float] = collections.defaultdict(float)
    counts: dict[str, int] = collections.defaultdict(int)
    payload: list[tuple[int, int]] = []
    turns: set[str] = set()
    for line in timings.read_text().splitlines():
        record = json.loads(line)
        if record["turn"] == WHATSAPP_PATH:
            continue  # `whatsapp_breakdown`
        sender, _, number = record["turn"].rpartition("#")
        if senders is not None:
            if not any(
                sender.startswith(prefix) and int(number) in numbers
                for prefix, numbers in senders.items()
            ):
                continue
        elif sender.startswith("warmup"):
            continue
        turns.add(record["turn"])
        if record["part"] == "action server payload":
            payload.append((record["bytes"], record["events"]))
            continue
        totals[record["part"]] += record["ms"]
        counts[record["part"]] += 1
    rows = _means(totals, counts, len(turns) or 1, per="turn")
    if payload:
        rows.append({
            "step": "action server payload (bytes, events per call)",
            "calls_per_turn": round(statistics.fmean(b for b, _ in payload)),
            "ms_per_turn": round(statistics.fmean(e for _, e in payload), 1),
        })  # fmt: skip
    return rows


def whatsapp_breakdown(timings: Path) -> list[dict]:
    """Mean milliseconds per WhatsApp message of the WhatsApp path's own steps (one webhook
    per message). Replies are sent beside the turn, so these overlap it in part."""
    totals: dict[str, float] = collections.defaultdict(float)
    counts: dict[str, int] = collections.defaultdict(int)
    for line in timings.read_text().splitlines():
        record = json.loads(line)
        if record["turn"] == WHATSAPP_PATH:
            totals[record["part"]] += record["ms"]
            counts[record["part"]] += 1
    return _means(totals, counts, counts.get(WEBHOOK_STEP) or 1, per="message")


def _means(totals: dict[str, float], counts: dict[str, int], n: int, per: str) -> list[dict]:
    """Calls and milliseconds of each step per `n` turns (or messages), costliest first."""
    return [
        {"step": part, f"calls_per_{per}": round(counts[part] / n, 2),
         f"ms_per_{per}": round(totals[part] / n, 2)}
        for part in sorted(totals, key=lambda p: -totals[p])
    ]  # fmt: skip


def run_benchmark(
    turns: int, long: int, with_breakdown: bool, show=lambda title, rows: None
) -> dict[str, list[dict]]:
    """The figures by section; `show(title, rows)` is called as each section is measured."""
    from bot.ops.fakes.twilio_api import FakeTwilioAPI
    from bot.ops.localstack import Stack, resident_memory_mb
    from bot.ops.training import train

    train(quiet=True)
    starter = StarterBot(prepare_starter()).start()
    report: dict[str, list[dict]] = {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bousla-bench-") as var_dir,
            FakeTwilioAPI() as twilio,
        ):
            env = {
                "TWILIO_ACCOUNT_SID": twilio.account_sid,
                "TWILIO_AUTH_TOKEN": twilio.auth_token,
                "TWILIO_WHATSAPP_FROM": "whatsapp:+14155238886",
                "TWILIO_BASE_URL": twilio.url,
            }
            stack = Stack(var_dir=Path(var_dir) / "timing", extra_env=env).start()
            try:
                figures = asyncio.run(drive(stack, starter, twilio, turns, long))
                memory = resident_memory_mb(stack.marker)
            finally:
                stack.stop()
            report["turns"] = turn_rows(figures)
            report["growth"] = growth_rows(figures["long"], long)
            report["memory"] = [
                {"server": "starter bot (Rasa)", "rss_mb": starter.rss_mb()},
                {"server": "Bousla (Rasa)", "rss_mb": memory.get("rasa", 0.0)},
                {"server": "Bousla action server", "rss_mb": memory.get("actions", 0.0)},
            ]
            for title in ("turns", "growth", "memory"):
                show(title, report[title])
            starter.stop()
            if with_breakdown:
                timings = Path(var_dir) / "turn-timings.jsonl"
                probe_env = {**env, "BOUSLA_TURN_TIMINGS": str(timings)}
                stack = Stack(var_dir=Path(var_dir) / "probe", extra_env=probe_env).start()
                try:
                    asyncio.run(drive(stack, None, twilio, turns, long))
                finally:
                    stack.stop()
                report["breakdown, all turns"] = breakdown(timings)
                report["breakdown, the WhatsApp path besides the turn"] = whatsapp_breakdown(
                    timings
                )
                for label, numbers in growth_windows(long).items():
                    report[f"breakdown, long conversation {label}"] = breakdown(
                        timings, {"long-": numbers}
                    )
                for title in [t for t in report if t.startswith("breakdown")]:
                    show(title, report[title])
    finally:
        starter.stop()
    return report


def turn_rows(figures: dict[str, list[float]]) -> list[dict]:
    rows = []
    for label in ["starter REST", "Bousla REST", "Bousla REST (paired)", "Bousla WhatsApp"]:
        if figures.get(label):
            rows.append({"turn": label, "n": len(figures[label]), **latency_ms(figures[label])})
    by_label = {r["turn"]: r["p50_ms"] for r in rows}
    if by_label.get("starter REST"):
        rows.append({
            "turn": "ratio Bousla REST / starter REST (p50)",
            "n": "", "p50_ms": round(by_label["Bousla REST"] / by_label["starter REST"], 2),
        })  # fmt: skip
    if by_label.get("Bousla REST (paired)") and by_label.get("Bousla WhatsApp"):
        rows.append({
            "turn": "ratio WhatsApp / REST paired (p50)",
            "n": "",
            "p50_ms": round(by_label["Bousla WhatsApp"] / by_label["Bousla REST (paired)"], 2),
        })  # fmt: skip
    lost = len(figures.get("WhatsApp lost turns", []))
    rows.append({"turn": "WhatsApp turns not delivered", "n": lost})
    return rows


def growth_rows(per_turn: list[float], long: int) -> list[dict]:
    rows = []
    for label, numbers in growth_windows(long).items():
        window = [per_turn[n - 1] for n in numbers if n <= len(per_turn)]
        rows.append({"turns": label, "median_ms": round(statistics.median(window) * 1000, 1)})
    if len(rows) > 1:
        rows.append({
            "turns": "ratio last / early",
            "median_ms": round(rows[-1]["median_ms"] / rows[0]["median_ms"], 2),
        })  # fmt: skip
    return rows


def show_section(title: str, rows: list[dict]) -> None:
    print(f"\n## {title}", flush=True)
    print_rows(rows)
    sys.stdout.flush()


def run_and_print(args: argparse.Namespace) -> None:
    if args.json:
        report = run_benchmark(args.turns, args.long, args.breakdown)
        print(json.dumps(report, ensure_ascii=False, indent=1))
    else:
        run_benchmark(args.turns, args.long, args.breakdown, show=show_section)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "turn", help="cost of a turn next to Rasa's starter bot, with a breakdown by step"
    )
    parser.add_argument("--turns", type=int, default=100, help="turns per channel")
    parser.add_argument("--long", type=int, default=300, help="turns of the long conversation")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_and_print)
