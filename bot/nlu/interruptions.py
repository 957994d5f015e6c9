"""Dialogue policy: distress and requests for a human interrupt any form or loop.

Rasa's RulePolicy lets an active loop (a form) handle every message first; a form whose
slot takes free text would swallow "je veux mourir" as an answer. This policy predicts
the safety action whenever the last message has one of these intents (or a safety tier),
with the same "no user prediction" standing as a loop's happy path and a higher priority
than the RulePolicy, so nothing can outvote it. The actions themselves deactivate the loop.
Rules in bot/data/rules.yml say the same for readability and `rasa data validate`.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.chosen_action import ChosenActionPolicy, action_before_latest_message

# intent -> action that must follow it, whatever the dialogue state
INTERRUPTIONS = {
    "distress": "utter_distress_contacts",
    "ask_human": "action_request_human",
}
PRIORITY = 7  # RulePolicy has 6

# Danger: the emergency contacts first, as a plain response rendered by Rasa itself
# (bot/centre/nlg.py, so they go out even when the action server is down), then the
# urgent request and the pause (action_distress).
CONTACTS = "utter_distress_contacts"
DISTRESS_ACTION = "action_distress"
# A weak signal (safety tier `check_in`): a gentle question with two buttons, no numbers.
CHECK_IN = "utter_safety_check_in"
CHECK_IN_DECLINED = "utter_safety_check_in_ok"
REQUEST_HUMAN = "action_request_human"
YES_TO_CHECK_IN = frozenset({"affirm", "ask_human", "need_listening"})
NO_TO_CHECK_IN = frozenset({"deny", "thank"})
SAID_AND_LISTEN = frozenset({CHECK_IN, CHECK_IN_DECLINED})
# After a counsellor handed the conversation back: small words ("wakha", "merci", "ok")
# get a short answer, never what the conversation before the hand-back called for.
HANDED_BACK = "utter_handed_back"
SMALL_WORDS = frozenset({"affirm", "thank", "deny", "goodbye"})
SMALL_WORDS_ANSWER = "utter_you_are_welcome"


def safety_tier(tracker: DialogueStateTracker) -> str | None:
    """The safety tier of the person's latest message (`bot.safety.assess`), if any."""
    message = tracker.latest_message
    safety = (message.parse_data.get("safety") if message else None) or {}
    return safety.get("tier")


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class InterruptionPolicy(ChosenActionPolicy):
    PRIORITY = PRIORITY

    def choose(self, tracker: DialogueStateTracker) -> str | None:
        """The safety action due now."""
        if tracker.latest_message is None:
            return None
        intent = tracker.latest_message.intent.get("name")
        latest = tracker.latest_action_name
        if latest == CONTACTS and intent == "distress":
            return DISTRESS_ACTION
        if latest in SAID_AND_LISTEN:
            return ACTION_LISTEN_NAME
        if latest == SMALL_WORDS_ANSWER and action_before_latest_message(tracker) == HANDED_BACK:
            return ACTION_LISTEN_NAME
        if latest != ACTION_LISTEN_NAME:
            return None
        if intent in INTERRUPTIONS:
            return INTERRUPTIONS[intent]
        if action_before_latest_message(tracker) == CHECK_IN:
            # The answer to the check-in: yes, or more distress, is an urgent request.
            if intent in YES_TO_CHECK_IN or safety_tier(tracker) is not None:
                return REQUEST_HUMAN
            if intent in NO_TO_CHECK_IN:
                return CHECK_IN_DECLINED
        if safety_tier(tracker) == "check_in":
            return CHECK_IN
        if intent in SMALL_WORDS and action_before_latest_message(tracker) == HANDED_BACK:
            return SMALL_WORDS_ANSWER
        return None
