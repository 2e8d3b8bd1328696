"""Embedding dispersion of images: how far augmentations spread around their parent.

Embeddings come from any feature extractor; :func:`pixel_features` is the
model-free fallback (a downsampled grey image, values in [0, 1]).

Example:
    >>> mean_pairwise_distance([[0, 0], [3, 4], [0, 0]])
    3.3333333333333335
    >>> mean_distance_to([[3, 4], [0, 1]], [0, 0])
    3.0
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mean_pairwise_distance(embeddings: Any) -> float:
    """Mean Euclidean distance over all unordered pairs of rows (0 for fewer than 2 rows)."""
    x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
    n = x.shape[0]
    if n < 2:
        return 0.0
    diff = x[:, None, :] - x[None, :, :]
    d = np.sqrt((diff ** 2).sum(-1))
    return float(d[np.triu_indices(n, 1)].mean())


def mean_distance_to(embeddings: Any, centre: Any) -> float:
    """Mean Euclidean distance of each row to ``centre`` (e.g. the parent's embedding)."""
    x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
    c = np.asarray(centre, dtype=np.float64).reshape(1, -1)
    return float(np.sqrt(((x - c) ** 2).sum(-1)).mean())


def pixel_features(image: Any, size: int = 16) -> np.ndarray:
    """A model-free image embedding: grey, resized to ``size`` x ``size``, flattened, in [0, 1]."""
    grey = image.convert("L").resize((size, size))
    return np.asarray(grey, dtype=np.float64).reshape(-1) / 255.0


__all__ = ["mean_pairwise_distance", "mean_distance_to", "pixel_features"]
