"""The real stack over REST: replies in the person's language, changes of language, bad input.

The stack is the one shared with the handoff and privacy tests (tests/stack_support.py);
each test uses its own senders.
"""

from __future__ import annotations

import httpx
import pytest

from bot.dashboard.rasa_api import rasa_api_headers
from bot.ops.localstack import Stack
from bot.settings import get_settings

pytestmark = [pytest.mark.slow, pytest.mark.background("shared stack")]


@pytest.fixture(scope="module")
def stack(shared_stack) -> Stack:
    return shared_stack.stack


def variant(domain: dict, response: str, language: str) -> str:
    for candidate in domain["responses"][response]:
        if candidate["condition"][0]["value"] == language:
            return candidate["text"]
    raise KeyError(f"{response}/{language}")


def languages_of(domain: dict, replies: list[dict]) -> set[str]:
    """The languages of the domain variants the replies' texts are (exact texts only)."""
    found = set()
    for reply in replies:
        for variants in domain["responses"].values():
            for candidate in variants:
                if candidate.get("text") == reply.get("text"):
                    found.add(candidate["condition"][0]["value"])
    return found


def texts(replies: list[dict]) -> list[str]:
    return [r.get("text") or "" for r in replies]


def user_texts(stack: Stack, sender: str) -> list[str]:
    """What the tracker (the transcript) holds of the person's messages."""
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        headers=rasa_api_headers(get_settings().rasa_api_token),
        timeout=30,
    )
    response.raise_for_status()
    return [e.get("text") for e in response.json()["events"] if e["event"] == "user"]


@pytest.mark.parametrize(
    ("sender", "first", "then", "language"),
    [
        ("lang-latn", "salam", "bghit nl9a khdma", "ary_latn"),
        ("lang-arabic", "السلام عليكم", "بغيت نلقى خدمة", "ary"),
        ("lang-french", "Bonjour", "je cherche du travail", "fr"),
    ],
)
def test_a_conversation_is_answered_in_its_language_and_ok_does_not_switch(
    stack, domain, sender, first, then, language
):
    replies = stack.say(sender, first)
    assert variant(domain, "utter_greet", language) in texts(replies)
    assert languages_of(domain, replies) == {language}, texts(replies)
    for message in (then, "ok", "👍", "1"):
        replies = stack.say(sender, message)
        assert replies, message
        assert languages_of(domain, replies) <= {language}, (message, texts(replies))


def test_switching_language_mid_conversation(stack, domain):
    sender = "lang-switch"
    assert languages_of(domain, stack.say(sender, "Bonjour")) == {"fr"}
    # The person goes on in Arabizi: Bousla follows.
    replies = stack.say(sender, "wach nta robot wla bnadem?")
    assert languages_of(domain, replies) == {"ary_latn"}, texts(replies)
    # An explicit request wins, and is confirmed in the new language.
    replies = stack.say(sender, "بالدارجة عافاك")
    assert texts(replies) == [variant(domain, "utter_language_changed", "ary")]
    replies = stack.say(sender, "parle-moi en français")
    assert texts(replies) == [variant(domain, "utter_language_changed", "fr")]
    # Asked for, the language stays, even when the person writes Darija again.
    replies = stack.say(sender, "choukran bzaf")
    assert languages_of(domain, replies) == {"fr"}, texts(replies)
    # No language named: the three choices, as buttons.
    replies = stack.say(sender, "je veux changer de langue")
    assert texts(replies) == [variant(domain, "utter_choose_language", "fr")]
    assert len(replies[0]["buttons"]) == 3
    replies = stack.say(sender, '/change_language{"target_language":"ary_latn"}')
    assert texts(replies) == [variant(domain, "utter_language_changed", "ary_latn")]


def test_a_change_of_language_during_the_profile_form_is_confirmed_then_asked_again(stack, domain):
    """A change of language is answered aside (bot/data/orientation.yml): the confirmation,
    then the same question, both in the new language."""
    sender = "lang-form"
    stack.say(sender, "Bonjour")
    replies = stack.say(sender, "je cherche une formation")
    assert variant(domain, "utter_ask_profile_consent", "fr") in texts(replies), texts(replies)
    replies = stack.say(sender, "hder m3aya b darija 3afak")
    assert texts(replies)[0] == variant(domain, "utter_language_changed", "ary_latn"), texts(
        replies
    )
    assert variant(domain, "utter_ask_profile_consent", "ary_latn") in texts(replies), texts(
        replies
    )


def test_bad_input_gets_a_sensible_answer_and_nothing_is_lost(stack, domain):
    sender = "lang-bad-input"
    assert languages_of(domain, stack.say(sender, "salam")) == {"ary_latn"}
    # An empty message is not understood (never read as a yes, which the model guessed).
    replies = stack.say(sender, "")
    assert texts(replies) == [variant(domain, "utter_ask_rephrase", "ary_latn")], texts(replies)
    sentence = "3afak bghit nkhdem f casa, 3andi diplome f l'informatique. "
    long_message = (sentence * 90)[:5000].strip()
    sent = [
        "👍🙏",  # emoji only
        "123456",  # digits only
        "JE CHERCHE UN TRAVAIL A MOHAMMEDIA",  # all caps, French
        "salamعليكم bghit nkhdem",  # Arabic and Latin in one word
        long_message,
    ]
    answers = {message: stack.say(sender, message) for message in sent}
    for message, replies in answers.items():
        assert replies, f"no answer to {message[:40]!r}"
    assert languages_of(domain, answers["JE CHERCHE UN TRAVAIL A MOHAMMEDIA"]) == {"fr"}
    assert languages_of(domain, answers["👍🙏"]) <= {"ary_latn"}
    assert languages_of(domain, answers["123456"]) <= {"ary_latn"}
    # The long message: read in part, the person told so in their language, kept whole.
    notice = variant(domain, "utter_message_truncated", "ary_latn")
    assert texts(answers[long_message])[0] == notice, texts(answers[long_message])
    assert all(notice not in texts(answers[m]) for m in sent[:-1])

    # Every message is in the transcript as written (the long one whole).
    recorded = user_texts(stack, sender)
    for message in ["salam", *sent]:
        assert message in recorded, message[:40]
