"""bot/actions/language.py: the slot `language` follows the person, and obeys a request."""

from __future__ import annotations

import pytest

from bot.actions.language import (
    ActionConfirmLanguage,
    ActionDetectLanguage,
    requested_language,
    truncation_notice,
)


def slots_set(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    ("current", "text", "expected"),
    [
        ("fr", "salam, bghit nkhdem", "ary_latn"),
        ("fr", "السلام عليكم", "ary"),
        ("ary_latn", "Bonjour, je cherche une formation", "fr"),
        ("ary", "wach kayn chi formation?", "ary_latn"),
    ],
)
def test_the_slot_follows_the_language_of_the_message(
    tracker_factory, dispatcher, domain, current, text, expected
):
    tracker = tracker_factory(text=text, intent="greet", slots={"language": current})
    events = ActionDetectLanguage().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"language": expected}
    assert dispatcher.messages == []


@pytest.mark.parametrize("text", ["ok", "1", "👍", "", "la", "/affirm", '/seek_job{"a":"b"}'])
def test_short_messages_and_buttons_leave_the_slot_alone(tracker_factory, dispatcher, domain, text):
    tracker = tracker_factory(text=text, intent="affirm", slots={"language": "ary_latn"})
    assert ActionDetectLanguage().run(dispatcher, tracker, domain) == []


def test_the_same_language_sets_nothing(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(text="je cherche un travail", slots={"language": "fr"})
    assert ActionDetectLanguage().run(dispatcher, tracker, domain) == []


@pytest.mark.parametrize(
    ("text", "entity_value", "expected"),
    [
        ("parle-moi en français", "fr", "fr"),
        ("écris en arabe", "ary", "ary"),
        ("écris-moi en arabizi", "ary_latn", "ary_latn"),
        ("hder m3aya b darija", "darija", "ary_latn"),  # Darija, in the script they write
        ("بالدارجة عافاك", "darija", "ary"),
        ("parle en darija", "darija", "ary_latn"),
        # values the synonyms did not map still name a language
        ("jawbni b lfrancais", "lfrancais", "fr"),
        ("kteb b L3ARBIA", "L3ARBIA", "ary"),
        ("kteb bl7rof lfrançais", "bl7rof lfrançais", "ary_latn"),
    ],
)
def test_change_language_sets_and_locks_the_language(
    tracker_factory, dispatcher, domain, text, entity_value, expected
):
    tracker = tracker_factory(
        text=text,
        intent="change_language",
        entities=[{"entity": "target_language", "value": entity_value}],
        slots={"language": "fr" if expected != "fr" else "ary"},
    )
    events = ActionDetectLanguage().run(dispatcher, tracker, domain)
    assert slots_set(events) == {"language": expected, "language_locked": True}
    ActionConfirmLanguage().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_language_changed"]


def test_a_locked_language_does_not_follow_the_messages(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        text="bghit nkhdem f casa", slots={"language": "fr", "language_locked": True}
    )
    assert ActionDetectLanguage().run(dispatcher, tracker, domain) == []


def test_change_language_without_a_language_offers_the_choice(tracker_factory, dispatcher, domain):
    tracker = tracker_factory(
        text="je veux changer la langue", intent="change_language", slots={"language": "fr"}
    )
    assert requested_language(tracker) is None
    assert ActionDetectLanguage().run(dispatcher, tracker, domain) == []  # French anyway
    ActionConfirmLanguage().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_choose_language"]
    buttons = {
        b["payload"]
        for v in domain["responses"]["utter_choose_language"]
        for b in v.get("buttons", [])
    }
    assert buttons == {
        f'/change_language{{"target_language":"{code}"}}' for code in ("fr", "ary", "ary_latn")
    }


def test_truncation_notice_reads_the_parse_data(tracker_factory):
    tracker = tracker_factory(text="x" * 5000)
    assert not truncation_notice(tracker)
    tracker.latest_message["text_truncated"] = {"length": 5000, "read": 1000}
    assert truncation_notice(tracker)


# ------------------------------------------------------------------ gender (issue 16, item 7)


@pytest.mark.parametrize(
    ("text", "gender"),
    [
        ("ما خدامة ما والو، گالسة ف الدار", "f"),
        ("kanbi3 l7elwa mn dar, ana khddama 3la rassi", "f"),
        ("salam, ana sakna f ain harrouda", "f"),
        ("أنا ساكن ف المحمدية", "m"),
        ("Bonjour, je suis couturière et je veux ouvrir mon atelier", "f"),
        ("je suis allée jusqu'au bac", "f"),
        ("chui allé jusqu'au bac", "m"),
        ("je suis une fille de 19 ans", "f"),
        ("ana weld 20 3am", "m"),
        ("راني عيانة بزاف", "f"),
        # about someone or something else, or nothing said
        ("khti khddama f l'usine", None),
        ("bent 3ammi khddama", None),
        ("le projet est lancé", None),
        ("bghit nkhdem", None),
        ("je suis au chômage", None),
        ("ana mn ain harrouda", None),
    ],
)
def test_the_persons_own_words_say_their_gender(text, gender):
    from bot.language.gender import said_gender

    assert said_gender(text) == gender


def test_the_slot_gender_follows_what_the_person_says(tracker_factory, dispatcher, domain):
    said = tracker_factory(text="ana khddama f dar", slots={"language": "ary_latn"})
    assert slots_set(ActionDetectLanguage().run(dispatcher, said, domain)) == {"gender": "f"}
    again = tracker_factory(text="ana khddama", slots={"language": "ary_latn", "gender": "f"})
    assert ActionDetectLanguage().run(dispatcher, again, domain) == []
    nothing = tracker_factory(text="bghit nkhdem", slots={"language": "ary_latn", "gender": "f"})
    assert ActionDetectLanguage().run(dispatcher, nothing, domain) == []  # it stays
    locked = tracker_factory(
        text="je suis allée au lycée", slots={"language": "fr", "language_locked": True}
    )
    assert slots_set(ActionDetectLanguage().run(dispatcher, locked, domain)) == {"gender": "f"}
