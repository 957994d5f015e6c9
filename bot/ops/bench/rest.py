"""`bousla bench rest`: reply latency through Rasa's REST channel, and memory of each process.

Starts the real stack (`bousla run`) on free ports with a throw-away SQLite database, sends
conversations one message at a time and reports p50/p95 of the full round trip (NLU,
dialogue, action server calls, tracker store) and the resident memory of each process.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bot.ops.bench.stats import print_rows, summarize

MESSAGES = [
    "salam",
    "Bonjour",
    "السلام عليكم",
    "bghit nl9a khdma",
    "je cherche une formation",
    "بغيت نبدا مشروع",
    "kayn chi tamwil l projet?",
    "je veux parler à un conseiller",
    "fin kayn lmarkaz?",
    "merci, au revoir",
]


def run_benchmark(messages: int, started_stack=None) -> list[dict]:
    """Latency rows (`label`) then one memory row (`process`) per process."""
    from bot.ops.localstack import Stack, resident_memory_mb
    from bot.ops.training import train

    train(quiet=True)
    with tempfile.TemporaryDirectory(prefix="bousla-bench-") as var_dir:
        stack = started_stack or Stack(var_dir=Path(var_dir)).start()
        try:
            stack.say("bench-warmup", "salam")  # first call loads lazy parts of the model
            durations = []
            for index in range(messages):
                sender = f"bench-{index // len(MESSAGES)}"
                begun = time.perf_counter()
                stack.say(sender, MESSAGES[index % len(MESSAGES)])
                durations.append(time.perf_counter() - begun)
            memory = resident_memory_mb(stack.marker)
        finally:
            if started_stack is None:
                stack.stop()
    latency = [summarize("REST reply, sequential", durations)]
    return latency + [{"process": name, "rss_mb": mb} for name, mb in memory.items()]


def print_report(rows: list[dict], as_json: bool) -> None:
    print_rows([r for r in rows if "label" in r], as_json)
    print_rows([r for r in rows if "process" in r], as_json)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rest", help="REST reply latency and process memory")
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_report(run_benchmark(args.messages), as_json=args.json)
    )
