"""Dialogue policy: distress and requests for a human interrupt any form or loop.

Rasa's RulePolicy lets an active loop (a form) handle every message first; a form whose
slot takes free text would swallow "je veux mourir" as an answer. This policy predicts
the safety action whenever the last message has one of these intents, with the same
"no user prediction" standing as a loop's happy path and a higher priority than the
RulePolicy, so nothing can outvote it. The actions themselves deactivate the loop.
Rules in bot/data/rules.yml say the same for readability and `rasa data validate`.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

# intent -> action that must follow it, whatever the dialogue state
INTERRUPTIONS = {
    "distress": "action_distress",
    "ask_human": "action_request_human",
}
PRIORITY = 7  # RulePolicy has 6


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class InterruptionPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": PRIORITY}

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        with self._model_storage.write_to(self._resource):
            pass  # nothing to learn
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = self.interrupting_action(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)

    @staticmethod
    def interrupting_action(tracker: DialogueStateTracker) -> str | None:
        """The safety action due now: only right after the person wrote."""
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        return INTERRUPTIONS.get(tracker.latest_message.intent.get("name"))
