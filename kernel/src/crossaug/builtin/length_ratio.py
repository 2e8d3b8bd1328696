"""Filter on the word-count ratio between a candidate and its parent.

Example:
    >>> from crossaug import Sample
    >>> f = LengthRatio(min_ratio=0.5, max_ratio=2.0)
    >>> f.score_batch([Sample("c", {"text": "one"})], [Sample("p", {"text": "one two three four"})])
    [0.25]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ..errors import ConfigError
from ..filter import Filter
from ..sample import Sample


class LengthRatio(Filter):
    """Keep candidates whose word count is within ``[min_ratio, max_ratio]`` of the parent's.

    Args:
        min_ratio: smallest accepted ratio.
        max_ratio: largest accepted ratio.
        field: text field compared.
    """

    name: ClassVar[str] = "text.length-ratio"

    def __init__(self, min_ratio: float = 0.5, max_ratio: float = 2.0, field: str = "text") -> None:
        if not 0 <= min_ratio <= max_ratio:
            raise ConfigError(f"need 0 <= min_ratio <= max_ratio, got {min_ratio}, {max_ratio}")
        self.min_ratio = float(min_ratio)
        self.max_ratio = float(max_ratio)
        self.field = field

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [len((c.get(self.field) or "").split()) / max(1, len(p[self.field].split()))
                for c, p in zip(candidates, parents)]

    def passes(self, score: float) -> bool:
        return self.min_ratio <= score <= self.max_ratio

    def verdict(self, score: float) -> str:
        return f"{self.name}: length ratio {score:.3f} outside [{self.min_ratio}, {self.max_ratio}]"
