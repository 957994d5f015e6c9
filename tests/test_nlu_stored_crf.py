"""The CRF entity extractor that keeps its trained model (bot/nlu/stored_crf.py): loaded
from the archive without training again, it finds the same entities as Rasa's own
extractor, which trains again at every load."""

from __future__ import annotations

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix

from bot.nlu.stored_crf import StoredCRFEntityExtractor

TRAINING = """
version: "3.1"
nlu:
- intent: inform
  examples: |
    - j'ai [22](age) ans
    - [19](age) ans
    - 3andi [24](age) 3am
    - ana [17](age) ans
    - عندي [20](age) عام
    - moi j'ai [30](age) ans
    - j'habite à [Ain Harrouda](city)
    - ana sakna f [Mohammedia](city)
    - kan sken f [Ain Harrouda](city)
    - je vis à [Casablanca](city)
"""
MESSAGES = ["j'ai 22 ans", "3andi 24 3am", "kan sken f Ain Harrouda", "je vis à Casablanca"]


def featurized(messages: list[Message]) -> list[Message]:
    """The extractor reads only messages a featurizer saw: one feature each."""
    for message in messages:
        message.add_features(
            Features(coo_matrix([[1.0]]), FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer")
        )
    return messages


def tokenized(texts: list[str], tokenizer: WhitespaceTokenizer) -> list[Message]:
    messages = [Message(data={TEXT: text}) for text in texts]
    tokenizer.process(messages)
    return featurized(messages)


def found(extractor: CRFEntityExtractor, tokenizer: WhitespaceTokenizer) -> list[list[tuple]]:
    messages = tokenized(MESSAGES, tokenizer)
    extractor.process(messages)
    return [[(e["entity"], e["value"]) for e in m.get(ENTITIES, [])] for m in messages]


def trained(tmp_path, extractor: type[CRFEntityExtractor]) -> tuple:
    """`extractor` trained on TRAINING and persisted: what loading it again needs (the
    arguments of `load`) and the tokenizer for the messages."""
    storage, resource = LocalModelStorage(tmp_path), Resource("crf")
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    data = RasaYAMLReader().reads(TRAINING)
    tokenizer.process_training_data(data)
    featurized(data.training_examples)
    config = extractor.get_default_config()
    extractor.create(config, storage, resource, context).train(data)
    return (config, storage, resource, context), tokenizer


def test_loaded_without_training_again_it_finds_what_rasas_extractor_finds(tmp_path, monkeypatch):
    stored, tokenizer = trained(tmp_path, StoredCRFEntityExtractor)

    # Rasa's own load trains again from the stored data; ours must not.
    rasas = CRFEntityExtractor.load(*stored)
    trainings = []
    original = StoredCRFEntityExtractor.train_model.__func__
    monkeypatch.setattr(
        StoredCRFEntityExtractor,
        "train_model",
        classmethod(lambda cls, *args: trainings.append(args) or original(cls, *args)),
    )
    ours = StoredCRFEntityExtractor.load(*stored)
    assert trainings == []
    assert list(ours.entity_taggers) == list(rasas.entity_taggers) == ["entity"]
    expected = found(rasas, tokenizer)
    assert any(expected), "the tiny CRF found nothing: the comparison would prove nothing"
    assert found(ours, tokenizer) == expected


def test_an_archive_without_the_stored_crf_is_loaded_by_training_again(tmp_path):
    """Models trained before this component: Rasa's way, by training again."""
    stored, tokenizer = trained(tmp_path, CRFEntityExtractor)
    loaded = StoredCRFEntityExtractor.load(*stored)
    assert found(loaded, tokenizer) == found(CRFEntityExtractor.load(*stored), tokenizer)
