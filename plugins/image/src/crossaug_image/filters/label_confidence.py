"""Label-confidence filter (ALIA-style): a user's classifier rejects samples that lost their class.

ALIA (Dunlap et al., NeurIPS 2023) filters generated images with a classifier
trained on the real data: an edit whose image no longer shows its class is dropped.
Here the classifier is any importable callable ``fn(images, labels) -> scores``
returning, for each image, the confidence that it shows ``label``.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> from crossaug import Sample
    >>> f = LabelConfidence("crossaug_image.filters.label_confidence:mean_brightness_is_label", min_confidence=0.5)
    >>> c = Sample("c", {"image": Image.new("L", (8, 8), 255)}, label="bright")
    >>> [s.kept for s in f([c], [c])]
    [True]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample
from crossaug.importing import import_callable


def mean_brightness_is_label(images: Sequence[Any], labels: Sequence[Any]) -> list[float]:
    """A toy classifier for examples and tests: "bright" when mean grey level > 127, else "dark"."""
    import numpy as np

    out = []
    for img, label in zip(images, labels):
        p_bright = float(np.asarray(img.convert("L"), dtype=np.float64).mean() / 255.0)
        out.append(p_bright if label == "bright" else 1.0 - p_bright)
    return out


class LabelConfidence(Filter):
    """Reject candidates the classifier does not recognise as their label.

    Args:
        classifier: importable name ``"package.module:function"`` of a callable
            ``fn(images, labels) -> list[float]`` (confidence in ``[0, 1]`` that each
            image shows its label), or a callable whose ``module:qualname`` is importable.
        min_confidence: smallest accepted confidence (ALIA keeps images whose
            predicted class is right; 0.5 approximates that for a binary view).
        field: image field classified.
        label_from: use the ``candidate``'s label or its ``parent``'s.
    """

    name: ClassVar[str] = "image.label-confidence"

    def __init__(self, classifier: str | Callable[..., Any], min_confidence: float = 0.5, field: str = "image",
                 label_from: str = "parent") -> None:
        if callable(classifier):  # a callable passed from Python is used as given (and pickled by reference)
            qual = getattr(classifier, "__qualname__", "")
            self._fn = classifier
            classifier = f"{classifier.__module__}:{qual}"
            if "<" in qual:
                raise ConfigError(f"classifier must be importable (module-level), got {classifier!r}")
        else:
            self._fn = import_callable(classifier, param="classifier")
        if not 0 <= min_confidence <= 1:
            raise ConfigError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
        if label_from not in ("candidate", "parent"):
            raise ConfigError(f"label_from must be candidate or parent, got {label_from!r}")
        self.classifier = classifier
        self.min_confidence = float(min_confidence)
        self.field = field
        self.label_from = label_from

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_fn" not in state:
            self._fn = import_callable(self.classifier, param="classifier")

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        labels = [(c if self.label_from == "candidate" else p).label for c, p in zip(candidates, parents)]
        for c, lab in zip(candidates, labels):
            if lab is None:
                raise BadSample(f"{self.name}: no label to check", sample_id=c.id, field=self.field)
        scores = [float(s) for s in self._fn([c[self.field] for c in candidates], labels)]
        if len(scores) != len(candidates):
            raise ConfigError(f"{self.name}: classifier {self.classifier} returned {len(scores)} scores "
                              f"for {len(candidates)} images")
        return scores

    def passes(self, score: float) -> bool:
        return score >= self.min_confidence

    def verdict(self, score: float) -> str:
        return f"{self.name}: classifier confidence in the label {score:.3f} < {self.min_confidence}"


__all__ = ["LabelConfidence", "mean_brightness_is_label"]
