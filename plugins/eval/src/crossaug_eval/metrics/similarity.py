"""Semantic similarity of an augmentation to its parent.

Text: cosine of sentence embeddings (the embedded all-MiniLM-L6-v2 by default).
Image-text pairs: CLIP score (Hessel et al. 2021, ``w * max(cos, 0)`` with
``w = 2.5``) when a CLIP model is available.

Example:
    >>> cosine_similarity([[1, 0], [1, 1]], [[1, 0], [0, 1]]).round(4).tolist()
    [1.0, 0.7071]
    >>> round(clip_score([[1, 0]], [[0.6, 0.8]])[0], 4)
    1.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def cosine_similarity(a: Any, b: Any) -> np.ndarray:
    """Row-wise cosine similarity of two ``(n, d)`` arrays (0 where a row is all zeros)."""
    x = np.atleast_2d(np.asarray(a, dtype=np.float64))
    y = np.atleast_2d(np.asarray(b, dtype=np.float64))
    if x.shape != y.shape:
        raise ValueError(f"shapes differ: {x.shape} vs {y.shape}")
    nx, ny = np.linalg.norm(x, axis=1), np.linalg.norm(y, axis=1)
    denom = nx * ny
    dots = np.einsum("ij,ij->i", x, y)
    return np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)


def clip_score(image_embeddings: Any, text_embeddings: Any, w: float = 2.5) -> list[float]:
    """CLIP score per pair: ``w * max(cos(image, text), 0)`` (Hessel et al. 2021, Eq. 1)."""
    return [float(w * max(c, 0.0)) for c in cosine_similarity(image_embeddings, text_embeddings)]


def text_similarity(parents: Sequence[str], children: Sequence[str], embedder: Any) -> list[float]:
    """Embedding cosine between each child text and its parent text."""
    if not parents:
        return []
    e = embedder.encode(list(parents) + list(children))
    return cosine_similarity(e[: len(parents)], e[len(parents):]).tolist()


class ClipScorer:
    """CLIP score of image-text pairs with a ``transformers`` CLIP model (local dir or hub id).

    No CLIP weights ship offline; pass a saved model directory.

    Args:
        model: model id or local directory.
        revision: model revision.
    """

    def __init__(self, model: str, revision: str | None = None) -> None:
        self.model = model
        self.revision = revision
        self._loaded: Any = None

    def _load(self) -> Any:
        if self._loaded is None:
            try:
                import torch  # noqa: F401
                from transformers import CLIPModel, CLIPProcessor
            except ImportError as exc:
                from crossaug.errors import MissingDependency

                raise MissingDependency("pip install 'crossaug[eval]' transformers", what="transformers") from exc
            from crossaug.models import resolve_model

            path = resolve_model("transformers", self.model, self.revision)
            self._loaded = (CLIPModel.from_pretrained(path).eval(), CLIPProcessor.from_pretrained(path))
        return self._loaded

    def __call__(self, images: Sequence[Any], texts: Sequence[str]) -> list[float]:
        import torch

        model, proc = self._load()
        with torch.no_grad():
            inputs = proc(text=list(texts), images=[im.convert("RGB") for im in images], return_tensors="pt",
                          padding=True, truncation=True)
            img = model.get_image_features(pixel_values=inputs["pixel_values"])
            txt = model.get_text_features(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        img = getattr(img, "pooler_output", img)
        txt = getattr(txt, "pooler_output", txt)
        return clip_score(img.numpy(), txt.numpy())


__all__ = ["cosine_similarity", "clip_score", "text_similarity", "ClipScorer"]
