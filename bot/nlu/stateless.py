"""The shape shared by Bousla's NLU components, which keep nothing between messages.

Rasa builds a graph component with `create(config, model_storage, resource,
execution_context)` and reads its defaults from `get_default_config()`; a component with
nothing to train or persist needs neither the storage nor the context. Subclasses register
themselves with `DefaultV1Recipe.register` and implement `process` (and
`process_training_data` when they change the training data).
"""

from __future__ import annotations

from typing import Any, TypeVar

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

C = TypeVar("C", bound="StatelessComponent")


class StatelessComponent(GraphComponent):
    """A graph component built from its config alone."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(
        cls: type[C],
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> C:
        return cls(config)
