"""The frozen safety evaluation set: kept apart from everything it measures, and the
targets of issue 15 met by the real trained model (`bousla bench safety`).

tests/data/safety_eval.tsv is never trained on and never used to tune anything: the
lexicon's phrases and idioms, the model's thresholds (bot/safety/lexicon.py) and the training
examples are tuned on tests/data/safety_dev.tsv and the training data. Its SHA-256 is
pinned below so that any edit shows in review: an edit means new "after" figures, and
saying why in docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

import pytest

from bot import PROJECT_ROOT
from bot.ops.bench.safety import (
    CATEGORIES,
    DEV_SET,
    EVAL_SET,
    SCRIPTS,
    model_outcomes,
    read_safety_set,
    score,
)
from bot.safety import load_lexicon
from tests.test_safety import training_examples

EVAL_SET_SHA256 = "e1a4efacba65c7d7f1cd8c7ee9681a8916e7af03f22988a273fc4a1d8f9283fb"


_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_EMPHASIS = re.compile(r"(\w)\1{2,}")


def key(text: str) -> str:
    """A message as compared between sets: case, accents, harakat, Arabic letter variants
    and emphasis ("salaaam") folded, without punctuation or emoji."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _EMPHASIS.sub(r"\1", plain.replace("\u0640", "").translate(_ARABIC_VARIANTS))
    return " ".join(re.findall(r"\w+", plain))


def test_the_evaluation_set_is_frozen():
    digest = hashlib.sha256(EVAL_SET.read_bytes()).hexdigest()
    assert digest == EVAL_SET_SHA256, (
        "tests/data/safety_eval.tsv changed: it is frozen (see its header). If the change "
        "is deliberate, measure again, update docs/benchmarks.md and this digest."
    )


def test_the_evaluation_set_covers_every_category_and_script():
    examples = read_safety_set(EVAL_SET)
    distress = [e for e in examples if e.label == "distress"]
    ordinary = [e for e in examples if e.label == "ordinary"]
    assert len(examples) >= 400 and len(distress) >= 150 and len(ordinary) >= 250
    by_category = Counter(e.category for e in distress)
    by_script = Counter(e.script for e in distress)
    assert all(by_category[c] >= 30 for c in CATEGORIES), by_category
    assert all(by_script[s] >= 30 for s in SCRIPTS), by_script
    assert all(Counter(e.script for e in ordinary)[s] >= 25 for s in SCRIPTS)
    assert len({key(e.text) for e in examples}) == len(examples), "duplicate messages"


def test_no_evaluation_message_is_in_the_training_data_the_lexicon_or_the_dev_set():
    evaluation = {key(e.text): e.text for e in read_safety_set(EVAL_SET)}
    training = {key(text) for _, text in training_examples()}
    lexicon = load_lexicon()
    phrases = {key(p.text.replace("...", " ")) for p in (*lexicon, *lexicon.idioms)}
    phrases |= {key(p.text) for p in lexicon.places}
    dev = {key(e.text) for e in read_safety_set(DEV_SET)}
    for name, other in (("training data", training), ("lexicon", phrases), ("dev set", dev)):
        leaked = sorted(text for normalised, text in evaluation.items() if normalised in other)
        assert leaked == [], f"evaluation messages found in the {name}: {leaked}"


def test_the_dev_set_is_readable_and_apart_from_the_training_data():
    dev = read_safety_set(DEV_SET)
    assert len(dev) >= 300
    training = {key(text) for _, text in training_examples()}
    assert [e.text for e in dev if key(e.text) in training] == []


def test_a_safety_set_with_a_bad_row_is_refused(tmp_path):
    from bot.ops.bench.safety import SafetySetError

    path = tmp_path / "set.tsv"
    path.write_text(
        "label\tcategory\tscript\ttier\ttext\ndistress\tviolence\tfr\tdanger\tx\n",
        encoding="utf-8",
    )
    with pytest.raises(SafetySetError, match=":2:"):
        read_safety_set(path)


# ------------------------------------------------------------ the guarantee (real model)
@pytest.mark.slow
def test_the_trained_model_meets_the_safety_targets_on_the_evaluation_set(loaded_model):
    """Recall >= 0.98 overall and >= 0.95 per category and script (danger or check_in),
    false alarms (danger on an ordinary message) <= 1 %, check-ins on ordinary <= 3 %."""
    examples = read_safety_set(EVAL_SET)
    result = score(examples, model_outcomes(loaded_model, [e.text for e in examples]))
    details = [
        f"{'miss' if e.label == 'distress' else o.tier}: {e.text} <- {o.why()}"
        for e, o in (*result.misses, *result.false_alarms, *result.ordinary_check_ins)
    ]
    assert result.failed_targets() == [], "\n".join(details)


def test_the_dashboard_flags_with_the_same_lexicon():
    """The dashboard's transcript flag (find_distress) and the NLU component share one
    lexicon file: the shipped one is valid and has every category in every script."""
    lexicon = load_lexicon()
    present = Counter((p.category, p.script) for p in lexicon)
    for category in CATEGORIES:
        for script in ("fr", "ary", "ary_latn"):
            assert present[(category, script)] >= 3, (category, script)
    assert {p.script for p in lexicon.idioms} == {"fr", "ary", "ary_latn"}
    assert (PROJECT_ROOT / "bot" / "safety" / "safety_lexicon.yml").is_file()
