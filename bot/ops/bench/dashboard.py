"""`bousla bench dashboard`: time from a person's message to its appearance in an open
dashboard.

A real dashboard (uvicorn, throw-away SQLite database, live updates as configured) shows a
conversation. Each round writes the person's message the way the channels' webhook does
(an inbox row, persisted before the provider is answered) and measures until it is visible:

- `sse`: a client listening to `/events` gets the `message` event and fetches the
  transcript fragment, as the page's script does; done when the text is in it;
- `browser` (with --browser): Debian's Chromium on the conversation page; done when the
  message is in the DOM.

The webhook's own work before the row exists (signature check, one INSERT) is measured by
the channels' benchmarks; the live-update poll interval (BOUSLA_DASHBOARD_POLL_SECONDS)
bounds most of the figure, so it is printed with it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from pathlib import Path

from bot.ops.bench.stats import print_rows, summarize

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "bench-password-123"


def _prepare(var_dir: str):
    os.environ["BOUSLA_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    from bot.settings import get_settings
    from bot.storage import db

    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()
    db.upgrade_database()
    from bot.dashboard.accounts import create_counsellor
    from bot.handoffs.service import request_handoff

    with db.session_scope() as session:
        create_counsellor(session, username="bench", password=PASSWORD, role="counsellor")
        handoff = request_handoff(
            session, person_id="bench-person", channel="whatsapp", language="fr", reason="ask_human"
        )
        return handoff.id


def _write_inbound(index: int, text: str) -> float:
    from bot.storage.db import session_scope
    from bot.storage.models import InboundMessage, utcnow

    begun = time.perf_counter()
    with session_scope() as session:
        session.add(
            InboundMessage(
                channel="whatsapp",
                provider_message_id=f"SMbench{index:06d}",
                person_id="bench-person",
                text=text,
                received_at=utcnow(),
                status="done",
            )
        )
    return begun


def _sse_rounds(url: str, handoff_id: int, rounds: int) -> list[float]:
    import httpx

    client = httpx.Client(base_url=url, timeout=30)
    client.post("/api/session", json={"username": "bench", "password": PASSWORD}).raise_for_status()
    arrived: dict[str, float] = {}
    ready = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with client.stream("GET", "/events", timeout=None) as stream:
            for line in stream.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("event: ready"):
                    ready.set()
                if line.startswith("data: ") and '"message"' in line:
                    event = json.loads(line[6:])
                    if event.get("person_id") != "bench-person":
                        continue
                    html = client.get(f"/handoffs/{handoff_id}/fragments/transcript").text
                    now = time.perf_counter()
                    for marker in list(pending):
                        if marker in html and marker not in arrived:
                            arrived[marker] = now

    pending: list[str] = []
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("no event stream from the dashboard")
    durations = []
    for index in range(rounds):
        marker = f"bench-sse-{index}"
        pending.append(marker)
        begun = _write_inbound(index, f"message {marker}")
        deadline = time.monotonic() + 10
        while marker not in arrived and time.monotonic() < deadline:
            time.sleep(0.002)
        if marker not in arrived:
            raise RuntimeError(f"{marker} never appeared")
        durations.append(arrived[marker] - begun)
        time.sleep(random.uniform(0.05, 1.0))  # messages come at random moments of the poll
    stop.set()
    client.close()
    return durations


def _browser_rounds(url: str, handoff_id: int, rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    durations = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page()
        page.goto(f"{url}/login?next=/handoffs/{handoff_id}")
        page.fill("input[name=username]", "bench")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-live=on]")
        for index in range(rounds):
            marker = f"bench-dom-{index}"
            begun = _write_inbound(100_000 + index, f"message {marker}")
            page.wait_for_selector(f"#transcript >> text={marker}", timeout=10_000)
            durations.append(time.perf_counter() - begun)
            time.sleep(random.uniform(0.05, 1.0))
        browser.close()
    return durations


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_benchmark(rounds: int, browser_rounds: int) -> list[dict]:
    from bot.dashboard.app import create_app
    from bot.dashboard.threaded import ThreadedDashboard
    from bot.settings import get_settings

    rows = []
    with tempfile.TemporaryDirectory(prefix="bousla-bench-dashboard-") as var_dir:
        handoff_id = _prepare(var_dir)
        poll = get_settings().dashboard_poll_seconds
        with ThreadedDashboard(create_app(), _free_port()) as server:
            if rounds:
                durations = _sse_rounds(server.url, handoff_id, rounds)
                rows.append(summarize(f"inbox row -> event + fragment (poll {poll} s)", durations))
            if browser_rounds:
                if not CHROMIUM.exists():
                    raise SystemExit("--browser needs Debian's Chromium at /usr/bin/chromium")
                durations = _browser_rounds(server.url, handoff_id, browser_rounds)
                rows.append(summarize(f"inbox row -> shown in Chromium (poll {poll} s)", durations))
    return rows


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard", help="time from a person's message to its appearance in the dashboard"
    )
    parser.add_argument("--rounds", type=int, default=200, help="messages through live updates")
    parser.add_argument(
        "--browser",
        type=int,
        default=0,
        metavar="N",
        help="also N messages watched in Debian's Chromium (/usr/bin/chromium)",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_rows(run_benchmark(args.rounds, args.browser), args.json)
    )
