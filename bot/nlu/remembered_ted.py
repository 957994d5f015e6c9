"""TED, remembering its answer for the dialogue states it has already seen.

Rasa asks every policy for a prediction before each action of a turn; TED runs its
transformer each time (about 20 ms on this project's 2-core servers, more than NLU).
What TED sees is the last `max_history` dialogue states (intents, entity names, slots,
active loop, previous action), a small set in practice: the same states always give the
same probabilities, so they are kept (a bounded LRU) and reused instead of computed again.
Predictions that read the person's text (end-to-end) or carry events are never reused.
"""

from __future__ import annotations

import collections
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

MEMORY_SIZE = 4096


def _frozen(value: Any) -> Any:
    """A hashable copy of dialogue states (dicts of dicts of tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(item) for item in value)
    return value


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class RememberedTEDPolicy(TEDPolicy):
    """TEDPolicy whose predictions are reused for dialogue states already seen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memory: collections.OrderedDict[Any, list[float]] = collections.OrderedDict()

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        precomputations: Any = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        reads_text = self.only_e2e or (
            tracker.latest_action_name == ACTION_LISTEN_NAME and TEXT in self.fake_features
        )
        if self.model is None or reads_text:
            return super().predict_action_probabilities(
                tracker, domain, rule_only_data, precomputations, **kwargs
            )
        key = _frozen(self._prediction_states(tracker, domain, rule_only_data=rule_only_data))
        probabilities = self._memory.get(key)
        if probabilities is not None:
            self._memory.move_to_end(key)
            return self._prediction(list(probabilities))
        prediction = super().predict_action_probabilities(
            tracker, domain, rule_only_data, precomputations, **kwargs
        )
        if not prediction.optional_events and not prediction.is_end_to_end_prediction:
            self._memory[key] = tuple(prediction.probabilities)
            if len(self._memory) > MEMORY_SIZE:
                self._memory.popitem(last=False)
        return prediction
