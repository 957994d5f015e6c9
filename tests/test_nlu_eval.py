"""The held-out evaluation (bot/ops/nlu_eval.py): its reader and scores, and the real model."""

from __future__ import annotations

import asyncio

import pytest

from bot import PROJECT_ROOT
from bot.ops.nlu_eval import (
    EvaluationFileError,
    Example,
    evaluate,
    format_report,
    macro_f1,
    read_examples,
    score_intents,
    score_language_id,
)

HELD_OUT = PROJECT_ROOT / "tests" / "data" / "nlu_test.tsv"
# Issue 16 item 10's target: held-out intent macro-F1 in each script.
MIN_MACRO_F1 = 0.95
MIN_LANGUAGE_ID = 0.97
# The held-out file is frozen: the figures of docs/benchmarks.md are computed on it and no
# setting is ever chosen with it (tuning uses cross-validation on the training data).
# Editing it changes this hash: only on purpose, with the new hash and new figures.
HELD_OUT_SHA256 = "c13b8fcda3471f0e05a87ebd285a5be9b4e18458af3e70e563d4df291060e84c"
# Intents typed after the programme suggestions (issue 16): each in each script.
AFTER_SUGGESTIONS = ("program_details", "how_to_apply", "more_programs")


# ------------------------------------------------------------------ reader and scores


def write(tmp_path, content: str):
    path = tmp_path / "eval.tsv"
    path.write_text(content, encoding="utf-8")
    return path


def test_reader_reads_the_three_columns_and_keeps_tabs_and_quotes_in_text(tmp_path):
    path = write(
        tmp_path,
        'lang\tintent\ttext\nfr\tgreet\tBonjour "toi"\n\nary_latn\tthank\tmerci\tbzaf\n',
    )
    assert read_examples(path) == [
        Example("fr", "greet", 'Bonjour "toi"'),
        Example("ary_latn", "thank", "merci\tbzaf"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "ligne 1"),
        ("language\tintent\ttext\nfr\tgreet\tsalut\n", "ligne 1"),
        ("lang\tintent\ttext\nfr\tgreet\n", "ligne 2 : trois colonnes"),
        ("lang\tintent\ttext\nfr\tgreet\tsalut\nen\tgreet\thello\n", "ligne 3 : langue inconnue"),
    ],
)
def test_reader_names_the_line_of_a_bad_file(tmp_path, content, message):
    with pytest.raises(EvaluationFileError, match=message):
        read_examples(write(tmp_path, content))


def test_the_held_out_file_reads_with_the_three_languages():
    examples = read_examples(HELD_OUT)
    assert {e.lang for e in examples} == {"fr", "ary", "ary_latn"}
    assert (
        len(examples) > 900
        and min(sum(e.lang == lang for e in examples) for lang in ("fr", "ary", "ary_latn")) > 250
    )


def test_the_held_out_file_is_frozen():
    import hashlib

    digest = hashlib.sha256(HELD_OUT.read_bytes()).hexdigest()
    assert digest == HELD_OUT_SHA256, (
        "tests/data/nlu_test.tsv changed: it is the frozen held-out set. Never edit it to "
        "raise a score; if a change is on purpose, record the new hash here and the new "
        "figures in docs/benchmarks.md."
    )


def test_the_held_out_file_has_the_intents_typed_after_suggestions():
    examples = read_examples(HELD_OUT)
    for intent in AFTER_SUGGESTIONS:
        for lang in ("fr", "ary", "ary_latn"):
            count = sum(e.intent == intent and e.lang == lang for e in examples)
            assert count >= 15, (intent, lang, count)


def test_no_held_out_message_is_a_training_example():
    """A message the model was trained on says nothing about new messages: the held-out
    file keeps none of them (compared without case and extra spaces)."""
    import re

    import yaml

    from bot.language.ngrams import plain_text

    def key(text: str) -> str:
        return re.sub(r"\s+", " ", text.casefold()).strip()

    trained = set()
    for path in (PROJECT_ROOT / "bot" / "data" / "nlu").rglob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in (item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    trained.add(key(plain_text(line.strip()[2:])))
    seen = [e.text for e in read_examples(HELD_OUT) if key(e.text) in trained]
    assert seen == []


def test_macro_f1():
    assert macro_f1(["a", "a", "b", "b"], ["a", "a", "b", "b"]) == 1.0
    # a: P=1/2 R=1/2 -> 0.5; b: P=1/2 R=1/2 -> 0.5
    assert macro_f1(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.5
    # c is never gold: it only lowers a's precision. a: 2/3, b: 1.0 -> 5/6
    assert macro_f1(["a", "a", "b"], ["a", "c", "b"]) == pytest.approx((2 / 3 + 1) / 2)
    assert macro_f1([], []) == 0.0


def test_scores_are_per_language_with_the_worst_confusions():
    examples = [
        Example("fr", "greet", "bonjour"),
        Example("fr", "thank", "merci"),
        Example("ary", "greet", "سلام"),
        Example("ary", "greet", "السلام"),
    ]
    scores = score_intents(examples, ["greet", "greet", "greet", "thank"])
    assert scores["fr"].accuracy == 0.5 and scores["fr"].confusions == [("thank", "greet", 1)]
    assert scores["ary"].count == 2 and scores["ary"].accuracy == 0.5
    assert "ary_latn" not in scores
    overall, by_lang = score_language_id(
        examples, {"always-fr": lambda text: "fr", "script": lambda t: "ary" if "س" in t else "fr"}
    )
    assert overall == {"always-fr": 0.5, "script": 1.0}
    assert by_lang["always-fr"] == {"fr": 1.0, "ary": 0.0}


# ------------------------------------------------------------------ the trained model


@pytest.fixture(scope="module")
def agent(loaded_model):
    return loaded_model  # the session's (conftest.py): loading it takes 30-60 s


@pytest.fixture(scope="module")
def held_out_report(agent):
    return evaluate(HELD_OUT, agent)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 16 item 10: held-out macro-F1 0.953 fr, 0.923 ary, 0.930 ary_latn "
    "(docs/benchmarks.md, 2026-12-07, DIET averaged with the linear classifier of "
    "bot/nlu/linear_intents.py), ary and ary_latn still under the target of 0.95",
)
def test_the_trained_model_on_the_held_out_messages(held_out_report):
    summary = format_report(held_out_report)
    for lang, score in held_out_report.intents.items():
        assert score.macro_f1 >= MIN_MACRO_F1, f"{lang}\n{summary}"


@pytest.mark.slow
def test_language_identification_on_the_held_out_messages(held_out_report):
    report, summary = held_out_report, format_report(held_out_report)
    assert report.language_id["bousla"] >= MIN_LANGUAGE_ID, summary
    assert report.language_id["bousla"] > report.language_id["langdetect"], summary
    if "lingua" in report.language_id:
        assert report.language_id["bousla"] > report.language_id["lingua"], summary


@pytest.mark.slow
def test_the_model_reads_normalised_text_and_gives_back_the_persons_words(agent):
    text = "SALAAAM, bghit nkhdem f Aïn Harrouda"
    parsed = asyncio.run(agent.parse_message(text))
    assert parsed["text"] == text  # what actions and transcripts see
    communes = [e for e in parsed["entities"] if e["entity"] == "commune"]
    assert communes, parsed["entities"]
    commune = communes[0]
    assert text[commune["start"] : commune["end"]] == "Aïn Harrouda"
    assert commune["value"] == "ain-harrouda"  # the synonym, found from the folded spelling
    long_text = ("bghit nkhdem f casa, " * 300).strip()  # Rasa strips what it receives
    parsed = asyncio.run(agent.parse_message(long_text))
    assert parsed["text"] == long_text
    assert parsed["text_truncated"]["length"] == len(long_text)
