"""NLU component: a linear intent classifier that DIET's ranking is averaged with.

Why: with ~7,000 short examples in three scripts, DIET (10 epochs, one small transformer
layer, sized for a training under 5 minutes on 2 cores) misreads rare spellings and falls
under the FallbackClassifier's threshold on many messages it ranks right. A linear SVM on
TF-IDF word (1-2) and character (2-4, inside words) n-grams of the normalised text, plus
the same features of the consonant skeleton of Darija messages (one spelling for both
scripts and for Arabizi variants: "بغيت", "bghit", "bghyt" -> "bgt"), is strong on such
data, trains in seconds, and makes different mistakes: averaging the two rankings does
better than either on a split of the training data and on tests/data/nlu_dev.tsv
(docs/benchmarks.md, "A linear classifier beside DIET"). The skeleton is a feature of
this model only: DIET's features, hence its `distress` confidences, do not change.

Safety is not moved: `bot.nlu.distress.DistressDetector` reads DIET's confidence in
`distress` from the ranking (`bot.safety.assess`), so this component never changes it.

- DIET's top intent is `distress` (or DIET ranked nothing): the message is left as DIET
  made it.
- Otherwise the mass DIET did not give `distress` (1 - d) is shared among the other
  intents as `diet_weight * DIET + (1 - diet_weight) * linear`, each ranking renormalised
  without `distress`; `distress` keeps DIET's own confidence d in the ranking, and the
  top intent is the best of the others (never `distress`, which DIET did not choose).

The linear model's scores become probabilities by a softmax of `scale` times the SVM's
decision values. It runs right after DIET, so the FallbackClassifier's threshold and
ambiguity test read the combined ranking. Vectorisers and model are persisted with Rasa's
ModelStorage (joblib), nothing is downloaded at run time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.language import detect
from bot.language.folding import fold
from bot.safety.lexicon import DISTRESS_INTENT

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intents.joblib"
RANKING_LENGTH = 10  # as DIET's


def darija_skeleton(text: str) -> str:
    """The consonant skeleton of a Darija message, the same in both scripts ("بغيت",
    "bghit", "bghyt" -> "bgt"); nothing for a French one, whose spelling is stable."""
    if detect(text).lang == "fr":
        return ""
    return fold(text, "intent_skeleton")


class LinearModel:
    """TF-IDF word and character n-grams and a linear SVM: text -> intent probabilities."""

    def __init__(self, c: float, scale: float) -> None:
        self.scale = scale
        self.vectorisers = [
            TfidfVectorizer(analyzer="word", token_pattern=r"\w+", ngram_range=(1, 2),
                            sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
            TfidfVectorizer(analyzer="word", token_pattern=r"\S+", preprocessor=darija_skeleton,
                            sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3),
                            preprocessor=darija_skeleton, sublinear_tf=True),
        ]  # fmt: skip
        self.svm = LinearSVC(C=c, random_state=0)

    @property
    def intents(self) -> list[str]:
        return [str(c) for c in self.svm.classes_]

    def fit(self, texts: list[str], intents: list[str]) -> LinearModel:
        features = hstack([v.fit_transform(texts) for v in self.vectorisers])
        self.svm.fit(csr_matrix(features), intents)
        return self

    def probabilities(self, texts: list[str]) -> np.ndarray:
        features = csr_matrix(hstack([v.transform(texts) for v in self.vectorisers]))
        scores = self.scale * np.atleast_2d(self.svm.decision_function(features))
        if scores.shape[1] == 1:  # two intents only: one decision value
            scores = np.hstack([-scores, scores])
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=1, keepdims=True)


def combine(
    ranking: list[dict[str, Any]],
    linear: dict[str, float],
    diet_weight: float,
    length: int = RANKING_LENGTH,
) -> list[dict[str, Any]]:
    """DIET's ranking averaged with the linear model's probabilities (module docstring).

    `ranking` is DIET's (its top intent is not `distress`); the result starts with the
    chosen intent and keeps DIET's `distress` entry, with its confidence, when it had one.
    """
    diet = {e["name"]: float(e.get("confidence") or 0.0) for e in ranking}
    distress = diet.pop(DISTRESS_INTENT, None)
    linear = {name: p for name, p in linear.items() if name != DISTRESS_INTENT}
    diet_total = sum(diet.values()) or 1.0
    linear_total = sum(linear.values()) or 1.0
    mass = 1.0 - (distress or 0.0)
    mixed = {
        name: mass
        * (
            diet_weight * diet.get(name, 0.0) / diet_total
            + (1.0 - diet_weight) * linear.get(name, 0.0) / linear_total
        )
        for name in {*diet, *linear}
    }
    best = sorted(mixed.items(), key=lambda item: (-item[1], item[0]))
    combined = [{"name": name, "confidence": confidence} for name, confidence in best]
    if distress is not None:
        rest = [*combined[1:], {"name": DISTRESS_INTENT, "confidence": distress}]
        rest.sort(key=lambda e: -e["confidence"])
        combined = [*combined[:1], *rest]
    return combined[:length]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Averages DIET's intent ranking with a linear SVM's (see the module docstring)."""

    @classmethod
    def required_components(cls) -> list[type]:
        # None that Rasa could check: DIET comes before it in config.yml, but the training
        # graph trains the two apart (a trainable component's requirement is looked for
        # among the nodes its own training depends on).
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Chosen on an 80/20 split of the training data and tests/data/nlu_dev.tsv
        # (docs/benchmarks.md), never on the held-out file.
        return {"C": 1.0, "scale": 10.0, "diet_weight": 0.4}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: LinearModel | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        intents = {e.get(INTENT) for e in examples}
        if len(intents) < 2:
            logger.warning("LinearIntentClassifier: fewer than two intents, nothing trained")
            return self._resource
        model = LinearModel(self.component_config["C"], self.component_config["scale"])
        self.model = model.fit([e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.model, Path(directory) / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        model = None
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(Path(directory) / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier: no trained model, DIET alone decides")
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        todo = [
            m
            for m in messages
            if m.get(INTENT_RANKING_KEY)
            and (m.get(INTENT) or {}).get("name") not in (None, DISTRESS_INTENT)
            and m.get(TEXT)
        ]
        if not todo:
            return messages
        probabilities = self.model.probabilities([m.get(TEXT) for m in todo])
        for message, row in zip(todo, probabilities, strict=True):
            linear = dict(zip(self.model.intents, row.tolist(), strict=True))
            ranking = combine(
                message.get(INTENT_RANKING_KEY), linear, self.component_config["diet_weight"]
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
