"""`bousla bench conversations`: the persona scenarios through the real stack, measured.

Starts the real stack (`bousla run`, trained model, action server) with the fake Twilio
and Telegram APIs, plays every scenario of tests/conversations/scenarios/ (the same runner
as `make test`), and prints per scenario and in total: user turns to the first programme
suggestions, characters per bot turn (mean, max), turns that said "I didn't understand",
questionnaire restarts, and checkpoints that failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .stats import print_rows  # relative: the benchmarks may move as a package


def total_row(results: list) -> dict:
    chars = [c for r in results for c in r.turn_chars]
    reached = [r.turns_to_first_suggestion for r in results if r.turns_to_first_suggestion]
    return {
        "scenario": f"TOTAL ({len(results)})",
        "channel": "-",
        "turns": sum(len(r.records) for r in results),
        "to_suggestion": f"{statistics.fmean(reached):.1f} ({len(reached)})" if reached else "-",
        "chars_mean": round(statistics.fmean(chars)) if chars else 0,
        "chars_max": max(chars, default=0),
        "misunderstood": sum(r.metrics()["misunderstood"] for r in results),
        "restarts": sum(r.metrics()["restarts"] for r in results),
        "failures": sum(r.metrics()["failures"] for r in results),
    }


def run_benchmark(args: argparse.Namespace) -> int:
    from bot.ops.conversations.runner import Harness, default_scenarios, known_failures_yaml
    from bot.ops.conversations.stack import ConversationStack, ensure_model

    scenarios = default_scenarios(Path(args.scenarios)) if args.scenarios else default_scenarios()
    if args.only:
        scenarios = [s for s in scenarios if any(key in s.id for key in args.only)]
    ensure_model()
    begun = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="bousla-conversations-") as var_dir,
        ConversationStack(Path(var_dir)) as stack,
    ):
        started = time.monotonic() - begun
        harness = Harness(stack)
        ran = harness.run_all(scenarios, workers=args.workers)
        stories = []
        if args.stories:
            from concurrent.futures import ThreadPoolExecutor

            from bot.ops.conversations.stories import load_stories, run_story

            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                stories = list(pool.map(lambda s: run_story(harness, s), load_stories()))
    results = [ran[s.id] for s in scenarios]
    if args.transcripts:
        folder = Path(args.transcripts)
        folder.mkdir(parents=True, exist_ok=True)
        for result in results:
            (folder / f"{result.scenario.id}.txt").write_text(result.transcript() + "\n")
    if args.known_failures:
        sys.stdout.write(known_failures_yaml(results + stories))
        return 0
    if args.write_known_failures:  # the same file, and the figures below, from one run
        Path(args.write_known_failures).write_text(
            known_failures_yaml(results + stories), encoding="utf-8"
        )
    rows = [r.metrics() for r in results] + [total_row(results)]
    if not args.json:  # a scenario that never reaches suggestions
        rows = [{**row, "to_suggestion": row["to_suggestion"] or "-"} for row in rows]
    print_rows(rows, as_json=args.json)
    seconds = time.monotonic() - begun
    summary = {
        "scenarios": len(results),
        "passing": sum(r.passed for r in results),
        "stack_start_s": round(started, 1),
        "total_s": round(seconds, 1),
    }
    print(json.dumps(summary) if args.json else
          f"\n{summary['passing']}/{summary['scenarios']} scenarios pass all their checkpoints; "
          f"stack started in {started:.0f} s, {seconds:.0f} s in all.")  # fmt: skip
    if stories:
        print(f"Test stories through the stack: {sum(s.passed for s in stories)}/{len(stories)} "
              "follow their steps.")  # fmt: skip
    if args.verbose:
        for result in results + stories:
            if not result.passed:
                print(f"\n{result.scenario.id}:")
                for key in result.failure_keys:
                    print(f"  {key}")
                for failure in result.failures:
                    print(f"    {failure}")
                if result.error:
                    print(result.error)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "conversations", help="persona scenarios: turns to suggestions, length, misunderstandings"
    )
    parser.add_argument("--scenarios", help="folder of scenario YAML files (default: the tests')")
    parser.add_argument("--only", nargs="*", help="only scenarios whose id contains one of these")
    parser.add_argument("--workers", type=int, default=3, help="scenarios played at once")
    parser.add_argument("--transcripts", help="write one transcript per scenario in this folder")
    parser.add_argument(
        "--known-failures", action="store_true", help="print known_failures.yml for this run"
    )
    parser.add_argument(
        "--write-known-failures",
        metavar="FILE",
        help="also write known_failures.yml for this run to FILE (and print the figures)",
    )
    parser.add_argument(
        "--stories", action="store_true", help="also replay tests/stories/ through the stack"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list failed checkpoints")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=run_benchmark)
