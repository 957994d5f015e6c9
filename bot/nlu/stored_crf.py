"""Rasa's CRF entity extractor, with its trained model kept in the model archive.

Rasa 3.6's `CRFEntityExtractor` stores only its training data and trains the CRF again at
every load: 7.6 s of the 57 s a Rasa server takes to load Bousla's model on 2 cores, paid
at each start of each replica (docs/benchmarks.md, "The cost of a turn", fifth round). This
component also stores each trained CRF (crfsuite's own file format, not a pickle) and opens
them at load; the predictions are the same. An archive without them (trained before) is
loaded as Rasa does, by training again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sklearn_crfsuite
from pycrfsuite import Tagger
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken


def _tagger_file(tag_name: str) -> str:
    return f"crf_{tag_name}.crfsuite"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """`CRFEntityExtractor` that loads its trained CRFs instead of training them again."""

    def persist(self, dataset: list[list[CRFToken]]) -> None:
        super().persist(dataset)
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag_name, tagger in self.entity_taggers.items():
                trained = Path(tagger.modelfile.name).read_bytes()
                (model_dir / _tagger_file(tag_name)).write_bytes(trained)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CRFEntityExtractor:
        try:
            with model_storage.read_from(resource) as model_dir:
                order_file = model_dir / "crf_order.json"
                crf_order = json.loads(order_file.read_text()) if order_file.exists() else []
                files = {name: model_dir / _tagger_file(name) for name in crf_order}
                if not crf_order or not all(path.exists() for path in files.values()):
                    raise FileNotFoundError
                taggers = {name: _open(path.read_bytes()) for name, path in files.items()}
        except (ValueError, FileNotFoundError):
            # No training data had entities, or an archive from before: as Rasa does.
            return super().load(config, model_storage, resource, execution_context, **kwargs)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor


def _open(model: bytes) -> sklearn_crfsuite.CRF:
    """A trained CRF from crfsuite's file bytes, opened in memory (no temporary file)."""
    crf = sklearn_crfsuite.CRF()
    tagger = Tagger()
    tagger.open_inmemory(model)  # crfsuite reads the model from these bytes: kept below
    crf._tagger = tagger  # what `crf.tagger_` returns once opened
    crf._model_bytes = model
    return crf
