"""Keep generated answers the answering model was confident in (SelTDA's pseudo-label filter).

A visual-question-answering step (``image.vqa``) records each answer's confidence, the
mean probability the model gave the answer's tokens, in its lineage step. This filter
scores a candidate with the confidence of the latest such step and keeps it when the
score reaches ``threshold``; a rejection says the score and the threshold.

Example:
    >>> from crossaug import LineageStep, Sample
    >>> step = LineageStep(name="image.vqa", kind="transform", plugin="crossaug-image", version="0",
    ...                    params={"confidence": 0.25})
    >>> c = Sample("c", {"text": "a dog"}, lineage=(step,))
    >>> out = AnswerConfidence(threshold=0.5)([c], [Sample("p", {"text": ""})])[0]
    >>> out.kept, out.reason
    (False, 'image.answer-confidence: answer confidence 0.25 < threshold 0.5')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample


def answer_confidence(sample: Sample, step: str = "image.vqa") -> float:
    """The ``confidence`` recorded by the latest lineage step named ``step``; ``BadSample`` if none."""
    for s in reversed(sample.lineage):
        if s.name == step and "confidence" in s.params:
            return float(s.params["confidence"])
    raise BadSample(f"no {step!r} step with a recorded confidence in the lineage", sample_id=sample.id,
                    field="lineage")


class AnswerConfidence(Filter):
    """Keep a candidate whose answer confidence (from ``step``'s lineage record) is at least ``threshold``.

    Args:
        threshold: minimum confidence in ``[0, 1]`` (default 0.5; ours).
        step: name of the lineage step whose ``confidence`` is read (default ``image.vqa``).
    """

    name: ClassVar[str] = "image.answer-confidence"

    def __init__(self, threshold: float = 0.5, step: str = "image.vqa") -> None:
        if not 0.0 <= float(threshold) <= 1.0:
            raise ConfigError(f"{self.name}: threshold must lie in [0, 1], got {threshold!r}")
        if not isinstance(step, str) or not step:
            raise ConfigError(f"{self.name}: step must name a lineage step, got {step!r}")
        self.threshold = float(threshold)
        self.step = step

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [answer_confidence(c, self.step) for c in candidates]

    def passes(self, score: float) -> bool:
        return score >= self.threshold

    def verdict(self, score: float) -> str:
        return f"{self.name}: answer confidence {score:.4g} < threshold {self.threshold:g}"


__all__ = ["AnswerConfidence", "answer_confidence"]
