"""The distress lexicon, its NLU component and the interruption policy (no model needed)."""

from __future__ import annotations

import csv
import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.safety import find_distress, load_lexicon

ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("je veux me suicider", "suicide"),
        ("Je vais me TUER ce soir", "suicide"),
        ("j'ai envie de mouriiiir", "suicide"),
        ("J'ai pensé au suicide hier", "suicide"),
        ("je me scarifie depuis un mois", "self_harm"),
        ("mon beau-frère me frappe", "violence"),
        ("bghit n9tel rassi", "suicide"),
        ("ana bghit nqatel rasi", "suicide"),
        ("kan9tel rassi", "suicide"),
        ("ghadi nenta7r", "suicide"),
        ("baba kayderbni kol nhar", "violence"),
        ("بغيت نقتل راسي", "suicide"),
        ("كنقتل راسي", "suicide"),
        ("بغييييت نموت", "suicide"),
        ("راجلي كيضربني", "violence"),
        ("salam, bghit nmout, ma b9a walo", "suicide"),
        ("wesh... je veux mourir sérieux", "suicide"),
        ("je veux en finir", "suicide"),
    ],
)
def test_distress_is_found_in_every_script_and_spelling(text, category):
    match = find_distress(text)
    assert match is not None, text
    assert match.category == category


@pytest.mark.parametrize(
    "text",
    [
        "je veux me jeter à l'eau et lancer mon projet",
        "ça me tue de rire",
        "drbni lbrd, ma9dertch nji",
        "bghit nsali lkhdma dyali 9bel l3id",
        "je veux plus vivre chez mes parents, je cherche un logement",
        "je cherche un stage de 3 mois",
        "/distress",
        "",
        "👍",
    ],
)
def test_ordinary_messages_do_not_trigger_the_lexicon(text):
    assert find_distress(text) is None


def training_examples() -> list[tuple[str, str]]:
    examples = []
    for path in sorted((PROJECT_ROOT / "bot" / "data" / "nlu").glob("*/*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        for block in data.get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = ENTITY_MARKUP.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    examples.append((block["intent"], text))
    return examples


def test_no_ordinary_training_example_triggers_the_lexicon_and_most_distress_ones_do():
    examples = training_examples()
    assert len(examples) > 1000
    false_alarms = [
        (intent, text) for intent, text in examples if intent != "distress" and find_distress(text)
    ]
    assert false_alarms == []
    distress = [text for intent, text in examples if intent == "distress"]
    caught = sum(1 for text in distress if find_distress(text))
    # DIET learns the rest; the lexicon is the floor that no retraining can lower.
    assert caught / len(distress) >= 0.8, f"{caught}/{len(distress)}"


def test_no_false_alarm_on_the_held_out_evaluation_set():
    """Measured once, blind (the lexicon was not tuned on this file): no false alarm."""
    path = PROJECT_ROOT / "tests" / "data" / "nlu_test.tsv"
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    false_alarms = [
        r["text"] for r in rows if r["intent"] != "distress" and find_distress(r["text"])
    ]
    assert false_alarms == []


def test_lexicon_rejects_an_unknown_script(tmp_path):
    broken = tmp_path / "lexicon.yml"
    broken.write_text("suicide:\n  en: [kill myself]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown script"):
        load_lexicon(broken)


# ---------------------------------------------------------------- the Rasa components


def parsed(text: str, intent: str, confidence: float = 0.9):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    ("text", "predicted", "expected"),
    [
        ("bghit n9tel rassi", "nlu_fallback", "distress"),
        ("je vais me tuer", "goodbye", "distress"),
        ("بغيت نموت", "need_listening", "distress"),
        ("je cherche un travail", "seek_job", "seek_job"),
    ],
)
def test_distress_detector_sets_the_intent(text, predicted, expected):
    from bot.nlu.distress import DistressDetector

    [message] = DistressDetector({}).process([parsed(text, predicted)])
    assert message.get("intent")["name"] == expected
    if expected == "distress":
        assert message.get("intent")["confidence"] == 1.0
        assert message.get("intent_ranking")[0]["name"] == "distress"
        assert message.get("safety")["source"] == "lexicon"
        assert "safety" in message.output_properties
        # the lexicon entry, never the person's own words
        assert message.get("safety")["phrase"] in {phrase.text for phrase in load_lexicon()}


def tracker_with(intent: str, *, active_loop: str | None = None, after_action: str | None = None):
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_listen")]
    if active_loop:
        events += [
            ActionExecuted(active_loop),
            ActiveLoop(active_loop),
            ActionExecuted("action_listen"),
        ]
    events.append(UserUttered("...", intent={"name": intent, "confidence": 1.0}))
    if after_action:
        events.append(ActionExecuted(after_action))
    return DialogueStateTracker.from_events("p", events)


@pytest.mark.parametrize(
    ("intent", "active_loop", "after_action", "expected"),
    [
        ("distress", "profile_form", None, "action_distress"),
        ("ask_human", "profile_form", None, "action_request_human"),
        ("distress", None, None, "action_distress"),
        ("seek_job", "profile_form", None, None),
        ("distress", None, "action_distress", None),  # only right after the person wrote
    ],
)
def test_interruption_policy_wins_over_any_form(
    intent, active_loop, after_action, expected, tmp_path
):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain

    from bot.nlu.interruptions import InterruptionPolicy

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    policy = InterruptionPolicy.create(
        InterruptionPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("interruptions"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    tracker = tracker_with(intent, active_loop=active_loop, after_action=after_action)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if expected is None:
        assert max(prediction.probabilities) == 0.0
        return
    assert domain.action_names_or_texts[prediction.max_confidence_index] == expected
    assert prediction.max_confidence == 1.0
    # the standing of a form's happy path, with a higher priority than the RulePolicy (6)
    assert prediction.is_no_user_prediction and prediction.policy_priority == 7
