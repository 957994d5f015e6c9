"""The shape shared by Bousla's hand-written dialogue policies.

Each one has nothing to learn: a function of the tracker names the action due now, or
None to leave the decision to the other policies. The named action is predicted with the
"no user prediction" standing of a loop's happy path, so that a form does not take the
message; the subclass's priority decides between such policies and the RulePolicy.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker


def action_before_latest_message(
    tracker: DialogueStateTracker, ignored: Collection[str] = (ACTION_LISTEN_NAME,)
) -> str | None:
    """The last action the bot ran before the person's latest message, leaving out the
    `ignored` ones (listening, by default); None when the bot ran none in that turn."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return None
            seen_user = True
        elif seen_user and isinstance(event, ActionExecuted):
            name = event.action_name
            if name and name not in ignored:
                return name
    return None


class ChosenActionPolicy(Policy):
    """Predicts `choose(tracker)` with certainty, or abstains. Subclasses register
    themselves with `DefaultV1Recipe.register` and set their priority."""

    PRIORITY = 7

    @classmethod
    def get_default_config(cls) -> dict[str, Any]:
        return {"priority": cls.PRIORITY}

    def choose(self, tracker: DialogueStateTracker) -> str | None:
        raise NotImplementedError

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
        action = self.choose(tracker)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities, is_no_user_prediction=True)
