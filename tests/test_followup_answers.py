"""Typed answers to the follow-up question, and when the policy takes the next message."""

from __future__ import annotations

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.followup.answers import read_answer
from bot.followup.policy import ANSWER_ACTION, ASK_ACTION, next_action


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        # the numbered choices WhatsApp shows, and their titles typed back
        ("1", "went_well"),
        ("jouj", "waiting"),
        ("٣", "not_yet"),
        ("4", "counsellor"),
        ("Oui, ça s'est bien passé", "went_well"),
        ("Ah, kantsna jawab", "waiting"),
        ("🕐 مازال", "not_yet"),
        # French
        ("oui", "contacted"),
        ("non", "not_yet"),
        ("pas encore de réponse", "waiting"),
        ("je ne suis pas encore inscrit", "not_yet"),
        ("j'ai pas encore pris rendez-vous", "not_yet"),
        ("ils m'ont refusé", "not_well"),
        ("ça ne s'est pas bien passé", "not_well"),
        ("je suis inscrite !", "went_well"),
        ("le conseiller de l'ANAPEC m'a dit d'attendre", "waiting"),
        ("je veux parler à un conseiller", "counsellor"),
        # Darija, Latin letters
        ("wah 3aytt lihom", "contacted"),
        ("mazal ma jawbounich", "waiting"),
        ("ma 3ayttch", "not_yet"),
        ("ma dazatch mzyan", "not_well"),
        ("tqbelt hamdoulah", "went_well"),
        ("bghit moustachar", "counsellor"),
        # Darija, Arabic script
        ("لا", "not_yet"),
        ("ما عيطتش", "not_yet"),
        ("كنتسنا", "waiting"),
        ("رفضوني", "not_well"),
        ("قبلوني", "went_well"),
        ("عيطت ليهم", "contacted"),
        # not answers: handled as usual
        ("bghit khdma", None),
        ("salam", None),
        ("merci", None),
        ("c'est la galère", None),
        ('/followup_answer{"followup_outcome":"went_well"}', None),  # entity, not words
    ],
)
def test_typed_answers(text, outcome):
    assert read_answer(text) == outcome


@pytest.fixture(scope="module")
def slots():
    return Domain.load(str(PROJECT_ROOT / "domain.yml")).slots


def after_question(slots, text: str, intent: str, *, pending: bool = True, extra=()):
    events = [
        ActionExecuted(ASK_ACTION),
        BotUttered("Tu as pu les contacter ?"),
        SlotSet("followup_id", "7" if pending else None),
        ActionExecuted(ACTION_LISTEN_NAME),
        *extra,
        UserUttered(text, intent={"name": intent, "confidence": 0.9}),
    ]
    return DialogueStateTracker.from_events("p", events, slots=slots)


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("mazal", "deny", ANSWER_ACTION),
        ("oui", "affirm", ANSWER_ACTION),
        ("j'attends leur appel", "inform", ANSWER_ACTION),
        ("wa9ila", "nlu_fallback", ANSWER_ACTION),  # not understood: asked again once
        ("un conseiller stp", "ask_human", ANSWER_ACTION),  # recorded, then queued
        ("bghit khdma", "seek_job", None),  # a new request: the usual rules
        ("salam", "greet", None),
        ("je veux mourir", "distress", None),  # always the safety net's
    ],
)
def test_the_message_after_the_question(slots, text, intent, expected):
    assert next_action(after_question(slots, text, intent)) == expected


def test_only_while_the_question_is_open_and_last(slots):
    assert next_action(after_question(slots, "oui", "affirm", pending=False)) is None
    later = [
        UserUttered("salam", intent={"name": "greet"}),
        ActionExecuted("utter_greet"),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    assert next_action(after_question(slots, "oui", "affirm", extra=later)) is None
    # The answer comes the next day: a new session in between does not matter.
    next_day = [
        ActionExecuted(ACTION_SESSION_START_NAME),
        SessionStarted(),
        SlotSet("followup_id", "7"),  # carried over to the new session
        ActionExecuted(ACTION_LISTEN_NAME),
    ]
    assert next_action(after_question(slots, "oui", "affirm", extra=next_day)) == ANSWER_ACTION


def test_listen_after_the_answer(slots):
    tracker = after_question(slots, "oui", "affirm")
    tracker.update(ActionExecuted(ANSWER_ACTION))
    assert next_action(tracker) == ACTION_LISTEN_NAME
