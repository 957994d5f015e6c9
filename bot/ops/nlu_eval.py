"""`bousla nlu-eval FILE.tsv`: how well the trained model understands held-out messages.

The file has three tab-separated columns with a header line: `lang`, `intent`, `text`
(`lang` is fr, ary or ary_latn). For each language variant it prints the intent accuracy,
the macro-F1 over the intents of that variant, the worst confusions, and how often
`bot.language.detect` names the right language (next to langdetect and, when installed,
lingua, scored the same way on the same messages). `--json` adds one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.language import LANGUAGES, detect
from bot.ops.training import model_path as current_model_path


@dataclass(frozen=True)
class Example:
    lang: str
    intent: str
    text: str


@dataclass
class LanguageScore:
    lang: str
    count: int
    accuracy: float
    macro_f1: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # gold, predicted, n


@dataclass
class Report:
    intents: dict[str, LanguageScore]
    language_id: dict[str, float]  # detector name -> accuracy over every example
    language_id_by_lang: dict[str, dict[str, float]]  # detector -> lang -> accuracy
    parse_ms_p50: float | None = None

    def as_dict(self) -> dict:
        return {
            "intents": {
                lang: {
                    "count": s.count,
                    "accuracy": round(s.accuracy, 4),
                    "macro_f1": round(s.macro_f1, 4),
                    "confusions": [list(c) for c in s.confusions],
                }
                for lang, s in self.intents.items()
            },
            "language_id": {k: round(v, 4) for k, v in self.language_id.items()},
            "language_id_by_lang": {
                k: {lang: round(v, 4) for lang, v in by.items()}
                for k, by in self.language_id_by_lang.items()
            },
            "parse_ms_p50": self.parse_ms_p50,
        }


class EvaluationFileError(ValueError):
    """The TSV file cannot be read; the message names the line."""


def read_examples(path: Path) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["lang", "intent", "text"]:
            raise EvaluationFileError(
                f"{path.name}, ligne 1 : en-tête attendu « lang intent text »"
            )
        for number, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise EvaluationFileError(f"{path.name}, ligne {number} : trois colonnes attendues")
            lang, intent, text = row[0].strip(), row[1].strip(), "\t".join(row[2:]).strip()
            if lang not in LANGUAGES:
                raise EvaluationFileError(
                    f"{path.name}, ligne {number} : langue inconnue « {lang} »"
                )
            examples.append(Example(lang, intent, text))
    return examples


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    """Macro-F1 over the gold labels (a label only ever predicted counts as a wrong guess)."""
    labels = sorted(set(gold))
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def score_intents(examples: list[Example], predicted: list[str], worst: int = 5) -> dict:
    scores = {}
    for lang in LANGUAGES:
        pairs = [(e.intent, p) for e, p in zip(examples, predicted, strict=True) if e.lang == lang]
        if not pairs:
            continue
        gold = [g for g, _ in pairs]
        guess = [p for _, p in pairs]
        confusions = Counter((g, p) for g, p in pairs if g != p).most_common(worst)
        scores[lang] = LanguageScore(
            lang=lang,
            count=len(pairs),
            accuracy=sum(1 for g, p in pairs if g == p) / len(pairs),
            macro_f1=macro_f1(gold, guess),
            confusions=[(g, p, n) for (g, p), n in confusions],
        )
    return scores


# ------------------------------------------------------------------ language identification
def _langdetect_detector() -> Callable[[str], str]:
    """langdetect as it comes, its codes mapped generously onto Bousla's three."""
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0  # deterministic

    def guess(text: str) -> str:
        try:
            code = detect_langs(text)[0].lang
        except LangDetectException:
            return "fr"
        if code == "ar" or code in ("fa", "ur"):
            return "ary"
        return "fr" if code == "fr" else "ary_latn"

    return guess


def _lingua_detector() -> Callable[[str], str] | None:
    """lingua restricted to French, Arabic and English, with the same script rule."""
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        return None
    detector = LanguageDetectorBuilder.from_languages(
        Language.FRENCH, Language.ARABIC, Language.ENGLISH
    ).build()

    def guess(text: str) -> str:
        language = detector.detect_language_of(text)
        if language == Language.ARABIC:
            return "ary"
        return "fr" if language == Language.FRENCH else "ary_latn"

    return guess


def language_detectors(include_lingua: bool = True) -> dict[str, Callable[[str], str]]:
    """bousla.detect, langdetect and (when installed) lingua, each as text -> code."""
    detectors: dict[str, Callable[[str], str]] = {"bousla": lambda text: detect(text).lang}
    detectors["langdetect"] = _langdetect_detector()
    lingua = _lingua_detector() if include_lingua else None
    if lingua is not None:
        detectors["lingua"] = lingua
    return detectors


def score_language_id(
    examples: list[Example], detectors: dict[str, Callable[[str], str]]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    overall, by_lang = {}, {}
    for name, guess in detectors.items():
        right = [guess(e.text) == e.lang for e in examples]
        overall[name] = sum(right) / len(right) if right else 0.0
        by_lang[name] = {}
        for lang in LANGUAGES:
            hits = [r for r, e in zip(right, examples, strict=True) if e.lang == lang]
            if hits:
                by_lang[name][lang] = sum(hits) / len(hits)
    return overall, by_lang


# ------------------------------------------------------------------ the model
def load_agent(model_path: Path) -> Any:
    """The trained model, loaded once (Rasa's structured debug logs kept quiet)."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    return Agent.load(str(model_path))


def predict_intents(model: Path | Any, texts: Iterable[str]) -> tuple[list[str], float]:
    """The intent the trained model (an archive or a loaded Agent) gives each text, and
    the median parse time in ms."""
    agent = load_agent(model) if isinstance(model, Path) else model
    predicted, durations = [], []

    async def parse_all() -> None:
        for text in texts:
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            durations.append((time.perf_counter() - started) * 1000)
            predicted.append((parsed.get("intent") or {}).get("name") or "")

    asyncio.run(parse_all())
    durations.sort()
    return predicted, durations[len(durations) // 2] if durations else 0.0


def evaluate(path: Path, model: Path | Any) -> Report:
    """Scores `model` (an archive or a loaded Agent) on the examples of `path`."""
    examples = read_examples(path)
    predicted, parse_p50 = predict_intents(model, [e.text for e in examples])
    overall, by_lang = score_language_id(examples, language_detectors())
    return Report(
        intents=score_intents(examples, predicted),
        language_id=overall,
        language_id_by_lang=by_lang,
        parse_ms_p50=round(parse_p50, 2),
    )


def format_report(report: Report) -> str:
    lines = ["Intents (held-out messages):"]
    lines.append(f"  {'lang':9} {'n':>5} {'accuracy':>9} {'macro-F1':>9}")
    for lang, s in report.intents.items():
        lines.append(f"  {lang:9} {s.count:>5} {s.accuracy:>9.3f} {s.macro_f1:>9.3f}")
    for lang, s in report.intents.items():
        if s.confusions:
            worst = ", ".join(f"{g}→{p} ×{n}" for g, p, n in s.confusions)
            lines.append(f"  worst confusions {lang}: {worst}")
    lines.append("Language identification (same messages):")
    for name, accuracy in report.language_id.items():
        per = "  ".join(f"{k} {v:.3f}" for k, v in report.language_id_by_lang[name].items())
        lines.append(f"  {name:11} {accuracy:.3f}   ({per})")
    if report.parse_ms_p50 is not None:
        lines.append(f"Parse time p50: {report.parse_ms_p50} ms a message")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    model = Path(args.model) if args.model else current_model_path()
    if not path.is_file():
        print(f"{path}: file not found", file=sys.stderr)
        return 2
    if not model.is_file():
        print(f"{model}: no trained model; run `make train` (or pass --model)", file=sys.stderr)
        return 2
    logging.getLogger("rasa").setLevel(logging.WARNING)
    try:
        report = evaluate(path, model)
    except EvaluationFileError as error:
        print(error, file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    if args.min_f1 is not None:
        below = [s.lang for s in report.intents.values() if s.macro_f1 < args.min_f1]
        if below:
            print(f"macro-F1 under {args.min_f1} for: {', '.join(below)}", file=sys.stderr)
            return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nlu-eval", help="score the trained model on a held-out TSV file (lang, intent, text)"
    )
    parser.add_argument("file", help="tab-separated file with columns lang, intent, text")
    parser.add_argument("--model", help="model archive (default: the current trained model)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    parser.add_argument("--min-f1", type=float, help="exit 1 if a language is under this")
    parser.set_defaults(handler=run)
