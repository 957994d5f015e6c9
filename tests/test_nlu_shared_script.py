"""bot.nlu.shared_script: Darija in Arabic and in Latin letters share features."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.folding import fold, normalise
from bot.nlu.shared_script import SharedScriptFeaturizer, skeleton_tokens


@pytest.mark.parametrize(
    ("arabizi", "arabic", "skeleton"),
    [
        ("bghit", "بغيت", "bgt"),
        ("khdma", "خدمة", "xdm"),
        ("5edma", "خدمة", "xdm"),
        ("3afak", "عافاك", "fk"),
        ("chkoun", "شكون", "ckn"),
        ("xno", "شنو", "cn"),
        ("n9der", "نقدر", "nqdr"),
        ("ntsjel", "نتسجل", "ntsjl"),
        ("lmarkaz", "المركز", "lmrkz"),
        ("tamwil", "تمويل", "tml"),
        ("wakha", "واخا", "wx"),
        ("7ta", "حتى", "ht"),
    ],
)
def test_both_scripts_give_one_skeleton(arabizi, arabic, skeleton):
    assert fold(normalise(arabizi), "script_skeleton") == skeleton
    assert fold(normalise(arabic), "script_skeleton") == skeleton


def test_numbers_and_french_words_keep_a_skeleton():
    assert fold("2024", "script_skeleton") == "2024"
    assert fold("centre", "script_skeleton") == "sntr"
    assert fold("conseiller", "script_skeleton") == "knslr"
    # A word with nothing left (vowels only) keeps its own spelling as a feature.
    assert skeleton_tokens(["a", "ewa"]) == ["a", "ewa"]


def featurizer(tmp_path) -> SharedScriptFeaturizer:
    config = {
        **SharedScriptFeaturizer.get_default_config(),
        "analyzer": "char_wb",
        "min_ngram": 2,
        "max_ngram": 3,
    }
    return SharedScriptFeaturizer.create(
        config,
        LocalModelStorage(tmp_path),
        Resource("shared_script"),
        ExecutionContext(GraphSchema({}), node_name="shared_script"),
    )


def messages(*texts: str, intent: str | None = None) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    result = [Message(data={TEXT: t, **({INTENT: intent} if intent else {})}) for t in texts]
    tokenizer.process(result)
    return result


def sentence_features(message: Message):
    _, sentence = message.get_sparse_features(TEXT, [])
    return sentence.features.toarray()


def test_a_message_in_either_script_gets_the_same_features(tmp_path):
    component = featurizer(tmp_path)
    component.train(TrainingData(messages("bghit khdma", "شنو هو التسجيل", intent="x")))
    latin, arabic, other = messages("bghit khdma", "بغيت خدمة", "شنو التسجيل")
    component.process([latin, arabic, other])
    assert (sentence_features(latin) == sentence_features(arabic)).all()
    assert sentence_features(latin).sum() > 0
    assert not (sentence_features(latin) == sentence_features(other)).all()
    # one row of features per token too (the sequence features DIET reads)
    sequence, _ = arabic.get_sparse_features(TEXT, [])
    assert sequence.features.shape[0] == 2
