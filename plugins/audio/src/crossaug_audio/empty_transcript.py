"""``audio.empty-transcript``: reject candidates whose ASR transcript is empty.

Example:
    >>> from crossaug import Sample
    >>> f = EmptyTranscript()
    >>> p = Sample("p", {"text": "a cat"})
    >>> [c.reason for c in f([Sample("c", {"text": ""}), Sample("d", {"text": "a cat"})], [p, p])]
    ['audio.empty-transcript: the ASR heard no words', None]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import Sample
from crossaug.filter import Filter


class EmptyTranscript(Filter):
    """Score = number of words in the transcript; passes when there is at least one.

    Back-speech runs it before the edit-distance filter so that silence or noise
    that the ASR heard as nothing is rejected with a reason that says so.

    Args:
        field: the transcript field.
    """

    name: ClassVar[str] = "audio.empty-transcript"

    def __init__(self, field: str = "text") -> None:
        self.field = field

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [float(len(str(c.get(self.field) or "").split())) for c in candidates]

    def passes(self, score: float) -> bool:
        return score > 0

    def verdict(self, score: float) -> str:
        return f"{self.name}: the ASR heard no words"
