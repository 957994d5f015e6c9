"""`bousla bench profile-form`: latency of the profile form's validation action.

Starts a real action server (`python -m rasa_sdk --actions bot.actions`) on a free port with a
throw-away SQLite database and posts to its webhook exactly what Rasa posts during a form
turn (tracker with the slot candidates, and the domain). Baseline measured in the same run:
`action_ask_age`, an action that only names a response (HTTP, JSON and SDK overhead).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from bot import PROJECT_ROOT
from bot.ops.bench.stats import print_rows, summarize


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def form_turn(
    text: str, candidates: dict, *, requested: str | None, slots: dict, sender: str
) -> dict:
    """The tracker Rasa sends to validate_profile_form after the person wrote `text`."""
    parse_data = {"text": text, "intent": {"name": "inform", "confidence": 0.9}, "entities": []}
    return {
        "sender_id": sender,
        "slots": {"language": "fr", "requested_slot": requested, **slots, **candidates},
        "latest_message": parse_data,
        "events": [
            {"event": "user", "text": text, "parse_data": parse_data, "input_channel": "rest"},
            {"event": "slot", "name": "requested_slot", "value": requested},
            {"event": "action", "name": "profile_form"},
            *({"event": "slot", "name": k, "value": v} for k, v in candidates.items()),
        ],
        "paused": False,
        "followup_action": None,
        "active_loop": {"name": "profile_form"} if requested else {},
        "latest_action_name": "action_listen",
    }


CASES = [
    (
        "action_ask_age (baseline: names a response)",
        "action_ask_age",
        form_turn("", {}, requested="age", slots={}, sender="bench-baseline"),
    ),
    (
        "validate_profile_form: typed age, no consent (parse only)",
        "validate_profile_form",
        form_turn(
            "3andi 22 3am", {"age": "3andi 22 3am"}, requested="age",
            slots={"profile_consent": False, "goal": "job"}, sender="bench-parse",
        ),
    ),
    (
        "validate_profile_form: typed schooling, consent given (profile stored)",
        "validate_profile_form",
        form_turn(
            "ma 9ritch", {"education": "ma 9ritch"}, requested="education",
            slots={"profile_consent": True, "goal": "job", "age": 22}, sender="bench-store",
        ),
    ),
    (
        "validate_profile_form: activation with 3 prefilled answers",
        "validate_profile_form",
        form_turn(
            "bghit khdma, 3andi 24 3am f ain harrouda",
            {"goal": "job", "age": "24", "commune": "ain harrouda"},
            requested=None, slots={}, sender="bench-prefill",
        ),
    ),
]  # fmt: skip


def run_benchmark(requests: int = 200) -> list[dict]:
    from bot.storage.db import upgrade_database

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bousla-bench-form-") as var_dir:
        env = {**os.environ, "BOUSLA_VAR_DIR": var_dir}
        env.pop("DATABASE_URL", None)
        upgrade_database(f"sqlite:///{Path(var_dir) / 'bousla.db'}")
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=30) as client:
                deadline = time.monotonic() + 120
                while True:
                    try:
                        if client.get(f"{base}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the action server did not start")
                    time.sleep(0.5)
                rows = []
                for label, action, tracker in CASES:
                    body = {"next_action": action, "sender_id": tracker["sender_id"],
                            "tracker": tracker, "domain": domain, "version": "3.6.21"}  # fmt: skip
                    for _ in range(5):  # warm-up: imports, first connection, first write
                        client.post(f"{base}/webhook", json=body).raise_for_status()
                    durations = []
                    for _ in range(requests):
                        begun = time.perf_counter()
                        client.post(f"{base}/webhook", json=body).raise_for_status()
                        durations.append(time.perf_counter() - begun)
                    rows.append(summarize(label, durations))
                return rows
        finally:
            server.terminate()
            server.wait(timeout=30)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile-form", help="latency of the profile form's validation action (HTTP)"
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_rows(run_benchmark(args.requests), as_json=args.json)
    )
