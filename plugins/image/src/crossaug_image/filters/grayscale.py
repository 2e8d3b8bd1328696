"""Detect black-and-white images (Back-Modality discards them from back-imagination).

The score is the mean over pixels of the channel spread ``max(R, G, B) - min(R, G, B)``
scaled to ``[0, 1]``: 0 for a grey image, larger for coloured ones.

Example:
    >>> from PIL import Image
    >>> chroma(Image.new("RGB", (8, 8), (90, 90, 90))), round(chroma(Image.new("RGB", (8, 8), (255, 0, 0))), 3)
    (0.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Filter, Sample


def chroma(img: Any) -> float:
    """Mean channel spread of an image in ``[0, 1]`` (``L`` images score 0)."""
    if img.mode == "L":
        return 0.0
    arr = np.asarray(img.convert("RGB"), dtype=np.int16)
    return float((arr.max(axis=2) - arr.min(axis=2)).mean() / 255.0)


def is_grayscale(img: Any, threshold: float = 0.02) -> bool:
    """True when the image's :func:`chroma` is below ``threshold``."""
    return chroma(img) < threshold


class Grayscale(Filter):
    """Reject candidates whose image is black-and-white (chroma below ``threshold``).

    Args:
        threshold: smallest accepted mean channel spread (0.02 is about 5 grey levels).
        field: image field examined.
    """

    name: ClassVar[str] = "image.grayscale"

    def __init__(self, threshold: float = 0.02, field: str = "image") -> None:
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ConfigError(f"threshold must lie in [0, 1], got {threshold!r}")
        self.threshold = float(threshold)
        self.field = field

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [chroma(c[self.field]) for c in candidates]

    def passes(self, score: float) -> bool:
        return score >= self.threshold

    def verdict(self, score: float) -> str:
        return f"{self.name}: image is black-and-white (chroma {score:.4f} < {self.threshold})"


__all__ = ["Grayscale", "chroma", "is_grayscale"]
