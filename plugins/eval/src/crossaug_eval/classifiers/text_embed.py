"""Frozen sentence embeddings + logistic regression: the fast text classifier of the evaluation.

Each distinct text is embedded once (the encoder is frozen), so training many
small classifiers over k-shot sets and their augmentations costs little.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from crossaug.errors import MissingDependency
from crossaug.sample import Sample
from ..embedding import EMBEDDED_MODEL, shared_embedder
from . import Classifier


class EmbeddingLogReg(Classifier):
    """Logistic regression on frozen sentence embeddings.

    Args:
        field: the text field classified.
        model: sentence-transformers model (default: the embedded all-MiniLM-L6-v2).
        C: inverse L2 regularisation strength of the logistic regression.
        embedder: an object with ``encode(texts)`` to use instead of ``model``.
    """

    name: ClassVar[str] = "text-embed-lr"

    def __init__(self, field: str = "text", model: str = EMBEDDED_MODEL, C: float = 1.0,
                 embedder: Any = None) -> None:
        self.field = field
        self.model = model
        self.C = C
        self.embedder = embedder if embedder is not None else shared_embedder(model)
        self._clf: Any = None
        self._classes: list[Any] = []

    def _reset(self) -> None:
        self._clf = None

    def features(self, samples: Sequence[Sample]) -> np.ndarray:
        return self.embedder.encode([str(s[self.field]) for s in samples])

    def fit(self, samples: Sequence[Sample], seed: int) -> EmbeddingLogReg:
        try:
            from sklearn.linear_model import LogisticRegression
            from sklearn.metrics import log_loss
        except ImportError as exc:
            raise MissingDependency("pip install 'crossaug[eval]'", what="scikit-learn") from exc
        x = self.features(samples)
        y = [s.label for s in samples]
        self._classes = sorted(set(y), key=repr)
        index = {c: i for i, c in enumerate(self._classes)}
        yi = np.array([index[v] for v in y])
        if len(self._classes) == 1:
            self._clf = None
            self.train_loss_ = 0.0
            return self
        self._clf = LogisticRegression(C=self.C, max_iter=2000, random_state=seed % (2**32 - 1))
        self._clf.fit(x, yi)
        self.train_loss_ = float(log_loss(yi, self._clf.predict_proba(x), labels=list(range(len(self._classes)))))
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        if self._clf is None:
            return [self._classes[0]] * len(samples)
        return [self._classes[int(i)] for i in self._clf.predict(self.features(samples))]


__all__ = ["EmbeddingLogReg"]
