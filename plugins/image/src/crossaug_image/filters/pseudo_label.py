"""Pseudo-label confidence filter: reject generated images the annotator labelled with low confidence.

PromptMix keeps every annotation its heavyweight model makes; a threshold on the
annotator's confidence is ours, off by default in the ``promptmix`` recipe. The score is
``sample.meta["pseudo_label"]["confidence"]`` (written by the recipe's labelling step).

Example:
    >>> from crossaug import Sample
    >>> f = PseudoLabelConfidence(min_confidence=0.5)
    >>> c = Sample("c", {"text": "x"}, meta={"pseudo_label": {"label": "cat", "confidence": 0.3}})
    >>> [s.reason for s in f([c], [c])]
    ["image.pseudo-label-confidence: the annotator's confidence in its label 0.300 < 0.5"]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample


class PseudoLabelConfidence(Filter):
    """Reject candidates whose pseudo-label's confidence is below ``min_confidence``.

    Args:
        min_confidence: smallest accepted confidence in ``[0, 1]`` (default 0.5; ours).
        meta_key: ``sample.meta`` key holding ``{"label": ..., "confidence": ...}``.
    """

    name: ClassVar[str] = "image.pseudo-label-confidence"

    def __init__(self, min_confidence: float = 0.5, meta_key: str = "pseudo_label") -> None:
        if not isinstance(min_confidence, (int, float)) or not 0 <= min_confidence <= 1:
            raise ConfigError(f"{self.name}: min_confidence must lie in [0, 1], got {min_confidence!r}")
        self.min_confidence = float(min_confidence)
        self.meta_key = meta_key

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        out = []
        for c in candidates:
            info: Any = c.meta.get(self.meta_key)
            conf = info.get("confidence") if isinstance(info, dict) else None
            if not isinstance(conf, (int, float)):
                raise BadSample(f"{self.name}: no pseudo-label confidence in meta[{self.meta_key!r}] (label the "
                                "image first, e.g. with the promptmix recipe's labeler)", sample_id=c.id)
            out.append(float(conf))
        return out

    def passes(self, score: float) -> bool:
        return score >= self.min_confidence

    def verdict(self, score: float) -> str:
        return f"{self.name}: the annotator's confidence in its label {score:.3f} < {self.min_confidence:g}"


__all__ = ["PseudoLabelConfidence"]
