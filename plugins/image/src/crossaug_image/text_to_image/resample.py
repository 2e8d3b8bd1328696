"""Resample black-and-white generations (Back-Modality's back-imagination rule).

Wraps a text-to-image transform: an output that is black-and-white or tinted
monochrome (its ``image.grayscale`` score below ``threshold``) is drawn again with a
new seed derived from the original seed and the attempt number, at most ``max_retries``
times. Attempts and the seeds used are recorded in lineage; an image still grey after
the last retry is returned as is (and the ``image.grayscale`` filter rejects it), so
nothing loops forever.

Example:
    >>> retry_seed(5, 1) == retry_seed(5, 1), retry_seed(5, 1) == retry_seed(5, 2)
    (True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Produced, Sample, Transform

from .._wrapped import WrapsTransform
from ..filters.grayscale import METHODS, monochrome_score
from .base import NSFW_REASON


def retry_seed(seed: int, attempt: int) -> int:
    """The seed of retry ``attempt`` (1, 2, ...) of an output first drawn with ``seed``."""
    state = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(seed) >> 32, int(attempt)]).generate_state(2)
    return int((int(state[1]) << 32 | int(state[0])) & ((1 << 63) - 1))


class ResampleGrayscale(WrapsTransform, Transform):
    """Redraw outputs of ``transform`` that come out black-and-white.

    Args:
        transform: a text -> image transform (e.g. ``image.text-to-image.diffusers``).
        threshold: score below which an image counts as black-and-white (see ``image.grayscale``).
        max_retries: at most this many redraws per output (0: only record the score).
        method: the ``image.grayscale`` score (``"tint"``: tinted monochrome too; ``"spread"``: grey only).
    """

    name: ClassVar[str] = "image.text-to-image.resample-grayscale"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"

    def __init__(self, transform: Transform, threshold: float = 0.02, max_retries: int = 3,
                 method: str = "tint") -> None:
        if not isinstance(transform, Transform) or transform.target != "image":
            raise ConfigError(f"{self.name}: transform must be a text -> image Transform, got {transform!r}")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigError(f"{self.name}: max_retries must be a non-negative integer, got {max_retries!r}")
        if not 0 <= threshold <= 1:
            raise ConfigError(f"{self.name}: threshold must lie in [0, 1], got {threshold!r}")
        if method not in METHODS:
            raise ConfigError(f"{self.name}: method must be one of {sorted(METHODS)}, got {method!r}")
        self.method = method
        self.transform = transform
        self.threshold = float(threshold)
        self.max_retries = max_retries

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        return int(getattr(self.transform, "batch_size", 8) or 1)

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """Generate with redraws, then reject (reason ``nsfw``) what the safety checker still flags."""
        out = super().__call__(samples, seeds)
        return [o.reject(NSFW_REASON) if o.lineage and o.lineage[-1].params.get("nsfw") else o for o in out]

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        def unpack(r: Any) -> tuple[Any, dict[str, Any]]:
            return (r.payload, dict(r.info)) if isinstance(r, Produced) else (r, {})

        results = [unpack(r) for r in self.transform.transform_batch(samples, seeds)]
        scores = [monochrome_score(img, self.method) for img, _ in results]  # each image scored once
        tried: list[list[int]] = [[] for _ in samples]
        for attempt in range(1, self.max_retries + 1):
            grey = [i for i, c in enumerate(scores) if c < self.threshold]
            if not grey:
                break
            new_seeds = [retry_seed(seeds[i], attempt) for i in grey]
            redo = self.transform.transform_batch([samples[i] for i in grey], new_seeds)
            for i, s, r in zip(grey, new_seeds, redo):
                results[i] = unpack(r)
                scores[i] = monochrome_score(results[i][0], self.method)
                tried[i].append(s)
        out = []
        for (img, info), retries, c in zip(results, tried, scores):
            info.update(colour_score=round(c, 4), grayscale=bool(c < self.threshold), retries=len(retries))
            if retries:
                info["retry_seeds"] = retries
            out.append(Produced(img, info))
        return out


__all__ = ["ResampleGrayscale", "retry_seed"]
