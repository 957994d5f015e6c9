"""Dialogue policy: distress and requests for a human interrupt any form or loop.

Rasa's RulePolicy lets an active loop (a form) handle every message first; a form whose
slot takes free text would swallow "je veux mourir" as an answer. This policy predicts
the safety action whenever the last message has one of these intents, with the same
"no user prediction" standing as a loop's happy path and a higher priority than the
RulePolicy, so nothing can outvote it. The actions themselves deactivate the loop.
Rules in bot/data/rules.yml say the same for readability and `rasa data validate`.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu.chosen_action import ChosenActionPolicy

# intent -> action that must follow it, whatever the dialogue state
INTERRUPTIONS = {
    "distress": "action_distress",
    "ask_human": "action_request_human",
}
PRIORITY = 7  # RulePolicy has 6


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class InterruptionPolicy(ChosenActionPolicy):
    PRIORITY = PRIORITY

    def choose(self, tracker: DialogueStateTracker) -> str | None:
        """The safety action due now: only right after the person wrote."""
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        return INTERRUPTIONS.get(tracker.latest_message.intent.get("name"))
