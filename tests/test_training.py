"""The model is trained again only when what it is made of changed: a second `make run`
starts in seconds, and an edit of the data, the domain, the config or Bousla's own NLU and
policy code is never served by a stale model."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.ops.training import fingerprint, training_inputs

MADE_OF = [
    "domain.yml",
    "config.yml",
    "bot/data/rules.yml",
    "bot/data/nlu/fr/orientation.yml",
    "bot/nlu/normaliser.py",
    "bot/language/detect.py",
    "bot/safety/lexicon.py",
    "bot/followup/policy.py",
]


def copy_of_the_inputs(root: Path) -> Path:
    for path in training_inputs():
        target = root / path.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return root


def test_every_part_of_the_model_is_in_the_fingerprint():
    inputs = {str(p.relative_to(PROJECT_ROOT)) for p in training_inputs()}
    missing = [name for name in MADE_OF if (PROJECT_ROOT / name).exists() and name not in inputs]
    assert not missing
    # Every custom component and policy named in config.yml is covered by the fingerprint.
    import yaml

    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    names = [c["name"] for c in config["pipeline"] + config["policies"] if "." in c["name"]]
    for name in names:
        module = PROJECT_ROOT / (name.rsplit(".", 1)[0].replace(".", "/") + ".py")
        assert str(module.relative_to(PROJECT_ROOT)) in inputs, name


def test_the_fingerprint_changes_with_the_model_inputs_and_only_with_them(tmp_path):
    root = copy_of_the_inputs(tmp_path)
    first = fingerprint(root)
    assert fingerprint(root) == first
    (root / "README.md").write_text("not part of the model")
    (root / "bot" / "dashboard").mkdir(parents=True)
    (root / "bot" / "dashboard" / "app.py").write_text("# neither is the dashboard")
    assert fingerprint(root) == first

    for name in MADE_OF:
        path = root / name
        if not path.exists():
            continue
        original = path.read_bytes()
        path.write_bytes(original + b"\n# edited\n")
        assert fingerprint(root) != first, name
        path.write_bytes(original)
    assert fingerprint(root) == first

    (root / "bot" / "data" / "nlu" / "fr" / "new.yml").write_text('version: "3.1"\n')
    assert fingerprint(root) != first


@pytest.mark.slow
def test_a_second_start_does_not_train_again(trained_model):
    """What `make run` (`bousla run`, via `bot.ops.run.prepare`) does when the model is current."""
    before = trained_model.stat().st_mtime_ns
    begun = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "bousla"), "train"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "nothing to train" in result.stdout
    assert time.monotonic() - begun < 30
    assert trained_model.stat().st_mtime_ns == before
