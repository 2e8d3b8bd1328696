"""Frozen sentence embeddings + logistic regression: the fast text classifier of the evaluation.

Each distinct text is embedded once (the encoder is frozen), so training many
small classifiers over k-shot sets and their augmentations costs little. Mixed
labels (``[[y_a, lam], [y_b, 1 - lam]]``) train as weighted rows, one per class.
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
        from ..labels import label_classes, label_weights

        feats = self.features(samples)
        self._classes = label_classes([s.label for s in samples])
        index = {c: i for i, c in enumerate(self._classes)}
        # one row per (sample, class) weighted by the class's share: a hard label is one row of
        # weight 1, a mixed label several rows; the weighted log-loss is the soft-target loss
        rows, yi, weight = [], [], []
        for i, s in enumerate(samples):
            for cls, share in label_weights(s.label, s.id).items():
                if share > 0:
                    rows.append(i)
                    yi.append(index[cls])
                    weight.append(share)
        if len(self._classes) == 1:
            self._clf = None
            self.train_loss_ = 0.0
            return self
        x, y, w = feats[rows], np.array(yi), np.array(weight)
        self._clf = LogisticRegression(C=self.C, max_iter=2000, random_state=seed % (2**32 - 1))
        self._clf.fit(x, y, sample_weight=w)
        # mean over samples of the cross-entropy against each sample's label distribution
        self.train_loss_ = float(log_loss(y, self._clf.predict_proba(x), sample_weight=w,
                                          labels=list(range(len(self._classes)))) * w.sum() / len(samples))
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        if self._clf is None:
            return [self._classes[0]] * len(samples)
        return [self._classes[int(i)] for i in self._clf.predict(self.features(samples))]


__all__ = ["EmbeddingLogReg"]
