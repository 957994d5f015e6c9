"""bot.language.detect: which language a message is in, and when it is too short to tell."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.language import STICKY_BELOW, Detection, detect
from bot.language.ngrams import LatinModel, latin_model, plain_text, training_examples
from bot.ops.nlu_eval import read_examples, score_language_id

HELD_OUT = PROJECT_ROOT / "tests" / "data" / "nlu_test.tsv"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("salam", "ary_latn"),
        ("Salaaam 👋", "ary_latn"),
        ("sbah lkhir", "ary_latn"),
        ("bghit nl9a khdma f casa", "ary_latn"),
        ("hder m3aya b darija", "ary_latn"),
        ("BGHIT NKHDEM", "ary_latn"),
        ("Bonjour", "fr"),
        ("je cherche une formation en informatique", "fr"),
        ("JE CHERCHE UN TRAVAIL", "fr"),
        ("parle-moi en français", "fr"),
        ("السلام عليكم", "ary"),
        ("بالدارجة عافاك", "ary"),
        ("بغيت نخدم ف الدار البيضاء", "ary"),
    ],
)
def test_clear_messages_are_detected_with_confidence(text, lang):
    detection = detect(text)
    assert detection.lang == lang
    assert detection.is_confident, detection


@pytest.mark.parametrize("text", ["ok", "OK", "1", "22", "👍", "🙏🙏", "?", "", "   ", "la", "cv"])
def test_short_messages_are_too_short_to_tell(text):
    detection = detect(text)
    assert detection.confidence < STICKY_BELOW, detection
    assert detection.lang in ("fr", "ary", "ary_latn")


def test_arabizi_digits_inside_words_are_a_cue():
    # Unknown words, but with 3/7/9 standing for letters: Darija, not French.
    assert detect("n9dar nmchi l7anout").lang == "ary_latn"
    assert detect("3afak 3awni").lang == "ary_latn"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("merci bzaf a khouya", "ary_latn"),
        ("bghit nkhdem, je cherche un travail à casa", "fr"),
        ("je veux un travail stp, ana ma3ndi walou", "fr"),
        ("bghit نخدم f casa", "ary_latn"),
        ("بغيت نخدم ف casa", "ary"),
    ],
)
def test_mixed_messages_give_the_dominant_language_and_say_mixed(text, lang):
    detection = detect(text)
    assert detection.lang == lang and detection.mixed, detection


def test_one_language_is_not_mixed():
    # French words Darija has borrowed ("crédit", "projet") do not make a message mixed.
    assert not detect("bghit crédit bach nbda projet dyali").mixed
    assert not detect("je cherche un travail à Mohammedia").mixed
    assert not detect("bghit nkhdem f Mohammedia").mixed
    assert not detect("بغيت نخدم").mixed


def test_deterministic_and_rebuilt_the_same():
    texts = ["salam", "merci", "bghit crédit", "ok", "wach kayn chi formation?"]
    first = [detect(t) for t in texts]
    assert [detect(t) for t in texts] == first
    examples = training_examples()
    rebuilt = LatinModel.train(examples["fr"], examples["ary_latn"])
    assert rebuilt.ratios == latin_model().ratios


def test_the_model_is_built_from_the_training_folders_only(tmp_path):
    for lang, line in (("fr", "je cherche un [travail](sector)"), ("ary_latn", "bghit khdma")):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "x.yml").write_text(
            f'version: "3.1"\nnlu:\n- intent: seek_job\n  examples: |\n    - {line}\n',
            encoding="utf-8",
        )
    examples = training_examples(tmp_path)
    assert examples == {"fr": ["je cherche un travail"], "ary_latn": ["bghit khdma"], "ary": []}
    assert plain_text('[français]{"entity": "target_language", "value": "fr"} svp') == (
        "français svp"
    )


def test_under_a_millisecond_a_message():
    """CPU time of this thread, not wall time: the suite's own servers running beside it
    (a busy machine) must not make a fast detector look slow."""
    latin_model()  # built once per process, not counted
    texts = [e.text for e in read_examples(HELD_OUT)]
    durations = []
    for text in texts:
        started = time.thread_time()
        detect(text)
        durations.append(time.thread_time() - started)
    durations.sort()
    assert durations[len(durations) // 2] < 0.001
    assert durations[int(len(durations) * 0.95)] < 0.001

    def cpu_time(text: str) -> float:  # the best of 3: one run can be slowed by the others
        times = []
        for _ in range(3):
            started = time.thread_time()
            detect(text)
            times.append(time.thread_time() - started)
        return min(times)

    # Only the start of a message is read: 100,000 characters cost what 1,000 do (a bound
    # of 10 ms alone failed once in CI at 10.8 ms, on a busy machine where 1,000 cost 3).
    huge, long = cpu_time("bghit nkhdem f casa " * 5000), cpu_time("bghit nkhdem f casa " * 50)
    assert huge < max(3 * long, 0.002) and huge < 0.05, (huge, long)


def test_accuracy_on_the_held_out_set():
    """The held-out file is only scored, never used to build the detector. (The comparison
    with langdetect and lingua is in tests/test_nlu_eval.py, with the trained model.)"""
    examples = read_examples(Path(HELD_OUT))
    overall, by_lang = score_language_id(examples, {"bousla": lambda text: detect(text).lang})
    assert overall["bousla"] >= 0.97, by_lang["bousla"]
    assert min(by_lang["bousla"].values()) >= 0.95, by_lang["bousla"]


def test_detection_keeps_its_contract():
    detection = detect("salam")
    assert isinstance(detection, Detection)
    assert 0.0 <= detection.confidence <= 1.0
    assert detection.is_confident == (detection.confidence >= STICKY_BELOW)
