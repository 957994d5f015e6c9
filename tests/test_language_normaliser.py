"""bot.nlu.normaliser: NLU reads normalised text, the parse data keeps the person's words."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot import PROJECT_ROOT
from bot.language.folding import normalise
from bot.nlu.normaliser import MAX_NLU_CHARS, TRUNCATED, OriginalText, TextNormaliser


@pytest.fixture(scope="module")
def training_data_before_and_after():
    """Bousla's real NLU training data, and what the normaliser makes of it."""
    data = load_data(str(PROJECT_ROOT / "bot" / "data" / "nlu"))
    before = {
        id(m): (m.get(TEXT), [dict(e) for e in m.get(ENTITIES) or []])
        for m in data.training_examples
    }
    TextNormaliser({}).process_training_data(data)
    return data, before


def test_every_training_entity_still_covers_its_words(training_data_before_and_after):
    data, before = training_data_before_and_after
    checked, changed, wrong = 0, 0, []
    for message in data.training_examples:
        text, entities = before[id(message)]
        changed += bool(entities) and message.get(TEXT) != text
        for old, new in zip(entities, message.get(ENTITIES) or [], strict=True):
            checked += 1
            words = message.get(TEXT)[new["start"] : new["end"]]
            if words != normalise(text[old["start"] : old["end"]]):
                wrong.append((text, old, new))
    assert not wrong, wrong[:5]
    # The data has entities, many in examples the normaliser changed. (None of today's
    # changes alters a length before an entity: test_language_normalise.py covers that.)
    assert checked > 500 and changed > 100


def test_training_entities_start_and_end_on_token_boundaries(training_data_before_and_after):
    """Otherwise Rasa drops the annotation ("misaligned entity") and the CRF learns less."""
    data, _ = training_data_before_and_after
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    examples = [m for m in data.training_examples if m.get(ENTITIES)]
    tokenizer.process(examples)
    misaligned = []
    for message in examples:
        tokens = message.get(TOKENS_NAMES[TEXT])
        starts, ends = {t.start for t in tokens}, {t.end for t in tokens}
        for entity in message.get(ENTITIES):
            if entity["start"] not in starts or entity["end"] not in ends:
                misaligned.append((message.get(TEXT), entity))
    assert not misaligned, misaligned[:5]


def test_lookup_tables_and_synonyms_get_the_normalised_spellings(training_data_before_and_after):
    data, _ = training_data_before_and_after
    communes = next(t for t in data.lookup_tables if t["name"] == "commune")["elements"]
    assert "ain harrouda" in communes and "Aïn Harrouda" not in communes
    assert len(communes) == len(set(communes))
    assert data.entity_synonyms.get("francais") == "fr"  # from "français" -> fr


def test_annotation_without_value_keeps_value_equal_to_its_words():
    message = Message(
        data={
            TEXT: "Parle en DARIJA stp",
            "intent": "change_language",
            ENTITIES: [{"start": 9, "end": 15, "value": "DARIJA", "entity": "target_language"}],
        }
    )
    TextNormaliser({}).process_training_data(_training_data(message))
    assert message.get(TEXT) == "parle en darija stp"
    assert message.get(ENTITIES)[0]["value"] == "darija"  # no synonym DARIJA -> darija learnt


def test_a_training_entity_after_a_shorter_spelling_is_moved():
    text = "Salaaam, ana mn Aïn Harrouuuda w 3ndi 22 3aaam"
    start = text.index("Aïn")
    age = text.index("22")
    message = Message(
        data={
            TEXT: text,
            "intent": "inform",
            ENTITIES: [
                {"start": start, "end": start + 14, "value": "ain-harrouda", "entity": "commune"},
                {"start": age, "end": age + 2, "value": "22", "entity": "age"},
            ],
        }
    )
    TextNormaliser({}).process_training_data(_training_data(message))
    normalised = message.get(TEXT)
    commune, years = message.get(ENTITIES)
    assert normalised[commune["start"] : commune["end"]] == "ain harrouda"
    assert commune["value"] == "ain-harrouda"  # its own value, untouched
    assert normalised[years["start"] : years["end"]] == "22"
    assert years["start"] < age  # moved: "Salaaam" lost two letters, "Harrouuuda" three


def _training_data(*messages: Message):
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData(training_examples=list(messages))


def test_the_parse_data_carries_the_original_text_and_entity_offsets():
    text = "Salaaam!! 3ANDI 22 3AM w saken f Aïn Harrouda"
    message = Message(data={TEXT: text})
    TextNormaliser({}).process([message])
    seen_by_nlu = message.get(TEXT)
    assert seen_by_nlu == "salam!! 3andi 22 3am w saken f ain harrouda"
    start = seen_by_nlu.index("ain harrouda")
    message.set(
        ENTITIES,
        [
            # as the CRF gives it (value = the words it read) ...
            {"start": start, "end": start + 12, "value": "ain harrouda", "entity": "commune"},
            # ... and as the EntitySynonymMapper leaves it when it knows the words
            {"start": 14, "end": 16, "value": "22", "entity": "age"},
        ],
        add_to_output=True,
    )
    OriginalText({}).process([message])
    parse_data = message.as_dict(only_output_properties=True)
    assert parse_data[TEXT] == text
    commune, age = parse_data[ENTITIES]
    assert text[commune["start"] : commune["end"]] == "Aïn Harrouda"
    assert commune["value"] == "Aïn Harrouda"  # unmapped: the person's words
    assert text[age["start"] : age["end"]] == "22"


def test_a_value_mapped_to_a_synonym_is_kept():
    text = "kteb b L3ARBIYA"
    message = Message(data={TEXT: text})
    TextNormaliser({}).process([message])
    message.set(ENTITIES, [{"start": 7, "end": 15, "value": "ary", "entity": "target_language"}])
    OriginalText({}).process([message])
    (entity,) = message.get(ENTITIES)
    assert entity["value"] == "ary" and text[entity["start"] : entity["end"]] == "L3ARBIYA"


def test_button_payloads_and_unchanged_text_are_left_alone():
    payload = '/program_details{"program_id":"Forsa"}'
    for text in (payload, "bghit nkhdem", ""):
        message = Message(data={TEXT: text})
        TextNormaliser({}).process([message])
        assert message.get(TEXT) == text
        OriginalText({}).process([message])
        assert message.get(TEXT) == text


def test_a_very_long_message_is_read_in_part_and_kept_whole():
    text = ("bghit nkhdem f casa " * 300).strip()  # about 6,000 characters
    message = Message(data={TEXT: text})
    TextNormaliser({}).process([message])
    read = message.get(TEXT)
    assert len(read) <= MAX_NLU_CHARS and not read.endswith(" ") and text.startswith(read)
    OriginalText({}).process([message])
    parse_data = message.as_dict(only_output_properties=True)
    assert parse_data[TEXT] == text
    assert parse_data[TRUNCATED] == {"length": len(text), "read": len(read)}
    short = Message(data={TEXT: "salam"})
    TextNormaliser({}).process([short])
    assert TRUNCATED not in short.as_dict(only_output_properties=True)


@pytest.mark.parametrize("text", ["", "   ", "\n", "😢", "❤️🔥", "👍👎", "?!"])
def test_a_message_with_nothing_to_read_is_not_understood(text):
    message = Message(data={TEXT: text})
    message.set("intent", {"name": "affirm", "confidence": 0.66}, add_to_output=True)
    TextNormaliser({}).process([message])
    OriginalText({}).process([message])
    parse_data = message.as_dict(only_output_properties=True)
    assert parse_data["intent"] == {"name": "nlu_fallback", "confidence": 1.0}
    assert parse_data["intent_ranking"] == [parse_data["intent"]]


@pytest.mark.parametrize(
    ("text", "intent"),
    [("👍", "affirm"), ("👍🏽 👌", "affirm"), ("✅", "affirm"), ("👎", "deny"), ("❌❌", "deny"),
     ("👋", "greet"), ("🙏🙏", "thank")],
)  # fmt: skip
def test_emoji_that_say_yes_no_hello_or_thanks_are_read_as_such(text, intent):
    message = Message(data={TEXT: text})
    message.set("intent", {"name": "out_of_scope", "confidence": 0.5}, add_to_output=True)
    TextNormaliser({}).process([message])
    OriginalText({}).process([message])
    parse_data = message.as_dict(only_output_properties=True)
    assert parse_data["intent"] == {"name": intent, "confidence": 1.0}
    assert parse_data[TEXT] == text
