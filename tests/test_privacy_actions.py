"""The erasure dialogue in the action server: a yes to the question (and only that) sets
`erasure_confirmed`; while a counsellor holds the conversation, the question and the
answers still go through action_validate_slot_mappings."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.privacy import ActionDeleteMyData, erasure_while_paused
from bot.actions.slot_mappings import ValidateSlotMappings
from bot.privacy import ERASURE_SLOT, NOTICE_VERSION
from tests.conftest import make_tracker


def asked(response: str = "utter_ask_delete_my_data") -> list[dict]:
    """The events of a turn that ended with the bot sending `response`."""
    return [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "supprime mes données", "parse_data": {}},
        {"event": "bot", "text": "...", "metadata": {"utter_action": response}},
        {"event": "action", "name": "action_listen"},
    ]


def answer(intent: str, events: list[dict], paused: bool = False) -> Tracker:
    tracker = make_tracker(
        text=intent,
        intent=intent,
        events=events,
        slots={"consent_notice_version": NOTICE_VERSION},
        channel="whatsapp",
    )
    if not paused:
        return tracker
    return Tracker(
        sender_id=tracker.sender_id,
        slots=tracker.slots,
        latest_message=tracker.latest_message,
        events=[{"event": "pause"}, *tracker.events],
        paused=True,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def erasure_set(events: list[dict]) -> bool:
    return any(e.get("event") == "slot" and e["name"] == ERASURE_SLOT for e in events)


def test_yes_to_the_question_confirms_and_marks_the_turn(dispatcher):
    events = ActionDeleteMyData().run(dispatcher, answer("affirm", asked()), {})
    assert responses(dispatcher) == ["utter_delete_my_data_done"]
    assert events == [{"event": "slot", "timestamp": None, "name": ERASURE_SLOT, "value": True}]


@pytest.mark.parametrize(
    ("intent", "events"),
    [
        ("affirm", asked("utter_offer_counsellor")),  # a yes to another question
        ("deny", asked()),
        ("affirm", []),  # no question at all
    ],
)
def test_nothing_is_erased_without_a_yes_to_the_question(dispatcher, intent, events):
    result = ActionDeleteMyData().run(dispatcher, answer(intent, events), {})
    assert not erasure_set(result)
    assert responses(dispatcher) == ["utter_ask_delete_my_data"]  # asked, never assumed


@pytest.mark.parametrize(
    ("intent", "events", "expected", "erases"),
    [
        ("delete_my_data", [], ["utter_ask_delete_my_data"], False),
        ("affirm", asked(), ["utter_delete_my_data_done"], True),
        ("deny", asked(), ["utter_delete_my_data_kept"], False),
        ("affirm", asked("utter_handoff_queued"), [], False),
        ("seek_job", asked(), [], False),
    ],
)
async def test_while_a_counsellor_holds_the_conversation_erasure_still_works(
    intent, events, expected, erases
):
    # Through the action Rasa runs on every message, paused or not.
    dispatcher = CollectingDispatcher()
    tracker = answer(intent, events, paused=True)
    result = await ValidateSlotMappings().run(dispatcher, tracker, {})
    assert responses(dispatcher) == expected
    assert erasure_set(result) is erases
    assert "utter_consent_notice" not in responses(dispatcher)


def test_the_paused_dialogue_is_silent_for_anything_else(dispatcher):
    assert erasure_while_paused(dispatcher, answer("greet", [], paused=True)) == []
    assert dispatcher.messages == []
