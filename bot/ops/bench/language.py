"""`bousla bench language`: language identification, bousla.detect vs langdetect vs lingua.

On the held-out messages of `tests/data/nlu_test.tsv` (lang, intent, text), in the same
run and process: accuracy overall and per language variant, and the time each detector
takes per message (p50/p95). Each detector answers with one of Bousla's three codes
(`bot.ops.nlu_eval.language_detectors`: langdetect's and lingua's codes are mapped
generously, Arabic to `ary`, French to `fr`, anything else to `ary_latn`). One-off set-up
(building bousla's model, loading lingua's) happens before the clock starts.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot import PROJECT_ROOT
from bot.language import LANGUAGES
from bot.ops.bench.stats import percentile, print_rows
from bot.ops.nlu_eval import language_detectors, read_examples

HELD_OUT = PROJECT_ROOT / "tests" / "data" / "nlu_test.tsv"


def run_benchmark(path: Path = HELD_OUT, repeat: int = 3) -> list[dict]:
    """One row per detector: accuracy (overall, per language) and p50/p95 per message."""
    examples = read_examples(path)
    rows = []
    for name, guess in language_detectors().items():
        guess("warm up")  # lazy set-up outside the clock
        durations, right = [], []
        for round_number in range(repeat):
            for example in examples:
                started = time.perf_counter()
                answer = guess(example.text)
                durations.append(time.perf_counter() - started)
                if round_number == 0:
                    right.append(answer == example.lang)
        row = {"detector": name, "accuracy": round(sum(right) / len(right), 4)}
        for lang in LANGUAGES:
            hits = [r for r, e in zip(right, examples, strict=True) if e.lang == lang]
            row[lang] = round(sum(hits) / len(hits), 4) if hits else None
        row.update(
            n=len(examples),
            p50_ms=round(percentile(durations, 50) * 1000, 3),
            p95_ms=round(percentile(durations, 95) * 1000, 3),
        )
        rows.append(row)
    if "lingua" not in {r["detector"] for r in rows}:
        print("lingua is not installed (pip install lingua-language-detector): not compared")
    return rows


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "language", help="language identification: bousla vs langdetect vs lingua"
    )
    parser.add_argument("--file", default=str(HELD_OUT), help="TSV with lang, intent, text")
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds over the file")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(
        handler=lambda args: print_rows(
            run_benchmark(Path(args.file), args.repeat), as_json=args.json
        )
    )
