"""The linear intent classifier beside DIET (bot/nlu/linear_intents.py): it trains, is
persisted and loaded with Rasa's ModelStorage, averages DIET's ranking with its own, and
never touches what the distress safety net reads."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intents import LinearIntentClassifier, combine

EXAMPLES = {
    "seek_job": ["bghit khdma", "je cherche un travail", "بغيت نخدم", "kayn chi khdma"],
    "seek_training": ["bghit takwin", "je cherche une formation", "بغيت تكوين", "chi formation"],
    "distress": ["bghit nmout", "je veux mourir", "بغيت نموت", "ma bqitch bghit n3ich"],
}


def trained(tmp_path) -> tuple[LinearIntentClassifier, LocalModelStorage, Resource]:
    storage, resource = LocalModelStorage(tmp_path), Resource("linear")
    context = ExecutionContext(GraphSchema({}), "test")
    config = LinearIntentClassifier.get_default_config()
    component = LinearIntentClassifier.create(config, storage, resource, context)
    data = TrainingData(
        [Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts]
    )
    component.train(data)
    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    return loaded, storage, resource


def message(text: str, ranking: list[tuple[str, float]]) -> Message:
    entries = [{"name": n, "confidence": c} for n, c in ranking]
    return Message(data={TEXT: text, INTENT: entries[0], INTENT_RANKING_KEY: entries})


def test_persisted_and_loaded_it_moves_an_unsure_diet_towards_its_own_reading(tmp_path):
    component, _, _ = trained(tmp_path)
    assert component.model is not None
    assert sorted(component.model.intents) == sorted(EXAMPLES)
    # DIET hesitates and slightly prefers the wrong intent: the linear model decides.
    msg = message("bghit chi takwin", [("seek_job", 0.5), ("seek_training", 0.45)])
    component.process([msg])
    assert msg.get(INTENT)["name"] == "seek_training"
    ranking = msg.get(INTENT_RANKING_KEY)
    assert ranking[0] == msg.get(INTENT)
    assert sum(e["confidence"] for e in ranking) == pytest.approx(1.0, abs=1e-6)


def test_a_message_diet_read_as_distress_is_left_as_it_is(tmp_path):
    component, _, _ = trained(tmp_path)
    msg = message("bghit khdma", [("distress", 0.6), ("seek_job", 0.4)])
    before = (dict(msg.get(INTENT)), [dict(e) for e in msg.get(INTENT_RANKING_KEY)])
    component.process([msg])
    assert (msg.get(INTENT), msg.get(INTENT_RANKING_KEY)) == before


def test_diet_distress_confidence_is_kept_and_never_chosen(tmp_path):
    component, _, _ = trained(tmp_path)
    # the linear model reads distress, DIET did not choose it: distress keeps DIET's
    # confidence (what bot.safety.assess reads) and is not the top intent.
    msg = message("je veux mourir", [("seek_job", 0.5), ("distress", 0.3), ("thank", 0.2)])
    component.process([msg])
    ranking = msg.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] != "distress"
    assert [e["confidence"] for e in ranking if e["name"] == "distress"] == [0.3]


def test_diet_without_a_ranking_or_a_model_changes_nothing(tmp_path):
    component, _, _ = trained(tmp_path)
    empty = Message(data={TEXT: "", INTENT: {"name": None, "confidence": 0.0}})
    component.process([empty])
    assert empty.get(INTENT_RANKING_KEY) is None
    untrained = LinearIntentClassifier.load(
        LinearIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path / "other"),
        Resource("nothing"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    msg = message("bghit khdma", [("seek_training", 0.9), ("seek_job", 0.1)])
    untrained.process([msg])
    assert msg.get(INTENT)["name"] == "seek_training"


def test_combine_weighs_the_two_rankings():
    diet = [{"name": "a", "confidence": 0.6}, {"name": "b", "confidence": 0.4}]
    linear = {"a": 0.0, "b": 1.0, "distress": 0.5}
    ranking = combine(diet, linear, diet_weight=0.4)
    assert [e["name"] for e in ranking] == ["b", "a"]
    assert ranking[0]["confidence"] == pytest.approx(0.4 * 0.4 + 0.6)
    only_diet = combine(diet, linear, diet_weight=1.0)
    assert [(e["name"], round(e["confidence"], 6)) for e in only_diet] == [("a", 0.6), ("b", 0.4)]


def test_darija_has_one_skeleton_in_both_scripts_and_french_none():
    from bot.language.folding import fold, normalise
    from bot.nlu.linear_intents import darija_skeleton

    spellings = ["بغيت نخدم", "bghit nkhdem", "bghyt n5dm"]
    assert {fold(normalise(t), "intent_skeleton") for t in spellings} == {"bgt nkdm"}
    assert darija_skeleton(normalise("wach kayn chi takwin 3afak")) == "x kn x tkn fk"
    assert darija_skeleton(normalise("je cherche une formation à Mohammedia")) == ""
