"""The dialogue policy of a conversation that keeps going (bot/nlu/conversation.py): which
action comes after a message, on trackers built from events (no model needed)."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.nlu.conversation import ConversationPolicy

LISTEN = "action_listen"
POLICY = object.__new__(ConversationPolicy)  # choose() reads only the tracker


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def choose(domain, text, intent, *, slots=None, before=(), in_form=None) -> str | None:
    events = [ActionExecuted(LISTEN)]
    events += [ActionExecuted(name) for name in before]
    if in_form:
        events += [ActiveLoop("profile_form"), SlotSet("requested_slot", in_form)]
    events += [SlotSet(name, value) for name, value in (slots or {}).items()]
    events += [ActionExecuted(LISTEN), UserUttered(text, intent={"name": intent})]
    tracker = DialogueStateTracker.from_events("p", events, slots=domain.slots)
    return POLICY.choose(tracker)


SHOWN = {"shown_programs": ["ofppt", "anapec-idmaj", "fondation-zakoura"], "goal": "job"}


@pytest.mark.parametrize(
    "text, intent, kwargs, expected",
    [
        # a counsellor request is open: everything is for the counsellor, distress apart
        ("ok", "affirm", {"slots": {"handoff_open": True}}, "action_add_to_request"),
        (
            "واش كاين شي حد؟",
            "nlu_fallback",
            {"slots": {"handoff_open": True}},
            "action_add_to_request",
        ),
        ("bghit khdma", "seek_job", {"slots": {"handoff_open": True}}, "action_add_to_request"),
        ("annuler", "cancel", {"slots": {"handoff_open": True}}, None),
        ("bghit nmout", "distress", {"slots": {"handoff_open": True}}, None),
        # programmes by name, at any moment; numbers after a list
        ("kifach ntsjel f intelaka?", "how_to_apply", {}, "action_program_question"),
        ("w forsa? sm3t 3liha f tiktok", "out_of_scope", {}, "action_program_question"),
        ("انطلاقة فين كاينة؟", "inform", {"in_form": "education"}, "action_program_question"),
        (
            "2",
            "inform",
            {"slots": SHOWN, "before": ["action_suggest_programs"]},
            "action_program_question",
        ),
        ("2", "inform", {"slots": SHOWN, "in_form": "age"}, None),  # an answer in the form
        (
            "plus d'infos sur le premier",
            "program_details",
            {"slots": SHOWN},
            "action_program_question",
        ),
        # a goal said again, a new goal
        ("bghit khdma", "seek_job", {"slots": SHOWN}, "action_remind_programs"),
        (
            "wa9ila la, ma bghitch khdma, bghit formation",
            "deny",
            {"slots": {"goal": "job"}, "in_form": "education"},
            "action_change_goal",
        ),
        ("bghit formation", "seek_training", {"slots": SHOWN}, "action_change_goal"),
        # off topic in the form; small words outside it
        ("c'est quand la prière ?", "out_of_scope", {"in_form": "age"}, "action_off_topic"),
        ("ok", "affirm", {}, "action_small_word"),
        ("👍", "nlu_fallback", {}, "action_small_word"),
        ("ok", "affirm", {"before": ["utter_offer_counsellor"]}, None),  # yes to the offer
        ("merci", "thank", {}, None),  # the thanks rule answers
        ("mes données ?", "delete_my_data", {}, "utter_privacy_notice"),
        ("supprime mes données", "delete_my_data", {}, None),
    ],
)
def test_the_action_after_a_message(rasa_domain, text, intent, kwargs, expected):
    assert choose(rasa_domain, text, intent, **kwargs) == expected


def test_after_an_aside_the_form_asks_again(rasa_domain):
    events = [
        ActionExecuted(LISTEN),
        ActiveLoop("profile_form"),
        SlotSet("requested_slot", "age"),
        ActionExecuted(LISTEN),
        UserUttered("w forsa?", intent={"name": "out_of_scope"}),
        ActionExecuted("action_program_question"),
    ]
    tracker = DialogueStateTracker.from_events("p", events, slots=rasa_domain.slots)
    assert POLICY.choose(tracker) == "profile_form"
    tracker = DialogueStateTracker.from_events("p", events[3:], slots=rasa_domain.slots)
    assert POLICY.choose(tracker) == LISTEN


def test_a_goal_the_message_itself_filled_is_still_a_new_goal(rasa_domain):
    """Rasa's slot mappings may set `goal` from the message before the policy runs."""
    events = [
        ActionExecuted(LISTEN),
        SlotSet("goal", "job"),
        SlotSet("shown_programs", ["ofppt"]),
        ActionExecuted("action_suggest_programs"),
        ActionExecuted(LISTEN),
        UserUttered("finalement non, je préfère une formation", intent={"name": "inform"}),
        SlotSet("goal", "training"),
    ]
    tracker = DialogueStateTracker.from_events("p", events, slots=rasa_domain.slots)
    assert POLICY.choose(tracker) == "action_change_goal"
