"""Dialogue policy: the message right after a follow-up question is read as its answer.

The question (`action_followup_ask`) offers buttons, whose payload `/followup_answer{...}`
has a rule of its own (bot/data/followup.yml). People also type: "oui", "mazal", "j'attends
leur appel", "ما عيطتش". Such words are classified as affirm, deny, inform or not
understood at all, so no rule can catch them; this policy predicts
`action_followup_answer` when the bot's last action before the message was the question
(or its repetition), the question is still open (slot `followup_id`), and the message
reads as an answer (`bot.followup.answers`), says yes/no, asks for a counsellor, or is not
understood (then the action asks again, once). Anything else ("bghit khdma", "salam") is
left to the other policies. Distress is never taken: `InterruptionPolicy` answers it.

Its priority is above `InterruptionPolicy`'s so that "un conseiller" after the question is
recorded as the answer; `action_followup_answer` then queues the request for a counsellor
exactly as `action_request_human` does.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.followup.answers import ANSWER_INTENT, outcome_of
from bot.nlu.chosen_action import ChosenActionPolicy, action_before_latest_message

ASK_ACTION = "action_followup_ask"
ANSWER_ACTION = "action_followup_answer"
PENDING_SLOT = "followup_id"
# Not understood: the action asks again (once) instead of the usual fallback.
UNCLEAR_INTENTS = ("nlu_fallback", "inform", "out_of_scope")
NEVER_TAKEN = ("distress",)
PRIORITY = 8  # InterruptionPolicy has 7, RulePolicy 6


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class FollowupAnswerPolicy(ChosenActionPolicy):
    PRIORITY = PRIORITY

    def choose(self, tracker: DialogueStateTracker) -> str | None:
        return next_action(tracker)


def next_action(tracker: DialogueStateTracker) -> str | None:
    """`action_followup_answer` for an answer to the open question, `action_listen`
    right after it; None when the other policies decide."""
    if tracker.latest_action_name == ANSWER_ACTION:
        return ACTION_LISTEN_NAME
    message = tracker.latest_message
    if tracker.latest_action_name != ACTION_LISTEN_NAME or message is None:
        return None
    if not tracker.get_slot(PENDING_SLOT):
        return None
    if bot_action_before_latest_message(tracker) not in (ASK_ACTION, ANSWER_ACTION):
        return None
    intent = (message.intent or {}).get("name")
    if intent in NEVER_TAKEN:
        return None
    if (
        intent == ANSWER_INTENT
        or intent in UNCLEAR_INTENTS
        or outcome_of(message.text, intent, message.entities) is not None
    ):
        return ANSWER_ACTION
    return None


def bot_action_before_latest_message(tracker: DialogueStateTracker) -> str | None:
    """The last action the bot ran before the person's latest message (a new session
    in between, when the answer comes a day later, does not count)."""
    return action_before_latest_message(
        tracker, ignored=(ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME)
    )
