"""Training the Rasa model, only when its inputs changed.

The model's file name carries a fingerprint of everything that shapes it (domain,
config, training data, Bousla's own NLU components), so "is it stale?" is a hash
comparison that needs neither Rasa nor file times (which a fresh clone resets).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

from bot import PROJECT_ROOT
from bot.settings import get_settings

MODEL_PREFIX = "bousla-"


def training_inputs(root: Path = PROJECT_ROOT) -> list[Path]:
    files = [root / "domain.yml", root / "config.yml"]
    files += sorted((root / "bot" / "data").rglob("*.yml"))
    # Bousla's own NLU components and what they use (language detection, safety net).
    for package in ("language", "nlu", "safety"):
        files += sorted((root / "bot" / package).rglob("*.py"))
    # The follow-up policy (config.yml) and the answer reading it relies on.
    files += [root / "bot" / "followup" / "policy.py", root / "bot" / "followup" / "answers.py"]
    return [f for f in files if f.is_file()]


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in training_inputs(root):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(models_dir: Path | None = None, root: Path = PROJECT_ROOT) -> Path:
    models_dir = models_dir or get_settings().models_dir
    return models_dir / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"


def train(models_dir: Path | None = None, force: bool = False, quiet: bool = False) -> Path:
    """Train the model unless an up-to-date one exists; returns its path."""
    target = model_path(models_dir)
    if target.exists() and not force:
        if not quiet:
            print(f"Model up to date: {target.relative_to(PROJECT_ROOT)} (nothing to train)")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"Training the model ({target.name}); this takes a few minutes...", flush=True)
    started = time.monotonic()
    command = [
        sys.executable, "-m", "rasa", "train",
        "--domain", "domain.yml",
        "--config", "config.yml",
        "--data", "bot/data",
        "--out", str(target.parent),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
        # `rasa data validate` runs on its own in `make test` (tests/test_rasa_data.py);
        # skipping it here saves a quarter of a minute on every training.
        "--skip-validation",
    ]  # fmt: skip
    subprocess.run(command, cwd=PROJECT_ROOT, check=True)
    for old in target.parent.glob(f"{MODEL_PREFIX}*.tar.gz"):
        if old != target:
            old.unlink()  # keep one model: the one that matches the sources
    print(f"Trained in {time.monotonic() - started:.0f} s: {target}", flush=True)
    return target


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train the Rasa model if data changed")
    parser.add_argument("--force", action="store_true", help="train even if up to date")
    parser.set_defaults(handler=lambda args: train(force=args.force) and 0)
