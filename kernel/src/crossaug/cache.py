"""Cost control: a shared per-process model cache and an on-disk cache of step results.

* :func:`cached_model` loads a model once per process, however many steps name it
  (two TTS voices of one model, the same CLIP in a filter and a transform).
* :class:`DiskCache` stores the outputs of model-backed transforms (captions, TTS
  audio, inversions) keyed by the step's definition, its plugin version, the input
  payload's hash and the seed, so a rerun (or a second recipe sharing the step)
  skips finished work. Transforms opt in with ``cacheable = True``; the cache is
  active when a run is given ``cache_dir`` (CLI ``--cache-dir``) or the
  environment sets ``CROSSAUG_CACHE_DIR``. Cached outputs replay exactly: the
  lineage (seed, info) is the same as for a fresh computation, so the manifest
  does not change.

Entries are ``.npz`` files holding a JSON description and plain numeric arrays
(texts, numbers, arrays, images, audio, :class:`~crossaug.produced.Produced`); they
are read with ``allow_pickle=False``, so reading an entry executes nothing. An entry
in any other form (a pickle, an object array) is refused and recomputed; values of
other types are not cached.

Example:
    >>> import tempfile
    >>> cache = DiskCache(tempfile.mkdtemp())
    >>> key = cache.key({"step": "text.upper"}, payload_digest("a cat"), 7)
    >>> cache.get(key)
    (False, None)
    >>> cache.put(key, "A CAT"); cache.get(key)
    (True, 'A CAT')
    >>> cached_model(("demo", 1), lambda: ["weights"]) is cached_model(("demo", 1), lambda: None)
    True
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .forking import renew_after_fork
from .produced import Produced
from .timing import timed

if TYPE_CHECKING:  # pragma: no cover
    from .sample import Sample
    from .transform import Transform

log = logging.getLogger(__name__)

ENV_VAR = "CROSSAUG_CACHE_DIR"
_FORMAT = 2

# -- models -------------------------------------------------------------------
_models: dict[Hashable, Any] = {}
_models_lock = threading.Lock()
_key_locks: dict[Hashable, threading.Lock] = {}
renew_after_fork(globals(), "_models_lock", "_key_locks")  # a load under way in another thread


def cached_model(key: Hashable, loader: Callable[[], Any]) -> Any:
    """Return the model stored under ``key`` in this process, calling ``loader()`` the first time.

    Thread-safe: concurrent callers with the same key wait for one load. Steps
    sharing a model should use the same key, e.g. ``("transformers", path, revision)``.

    Args:
        key: a hashable identity of the model (kind, resolved path, revision, device).
        loader: builds the model; called at most once per key per process.
    """
    with _models_lock:
        if key in _models:
            return _models[key]
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _models_lock:
            if key in _models:
                return _models[key]
        model = loader()
        with _models_lock:
            _models[key] = model
        log.debug("loaded model %r", key)
        return model


def cached_model_keys() -> list[Hashable]:
    """Keys of the models loaded in this process."""
    with _models_lock:
        return list(_models)


def clear_models() -> None:
    """Forget every cached model (frees memory once nothing else refers to them)."""
    with _models_lock:
        _models.clear()
        _key_locks.clear()


# -- hashing payloads -----------------------------------------------------------
def _feed(h: Any, obj: Any) -> None:
    import numpy as np

    if obj is None or isinstance(obj, (bool, int, float)):
        h.update(b"j" + json.dumps(obj).encode())
    elif isinstance(obj, str):
        data = obj.encode("utf-8")
        h.update(b"s%d:" % len(data) + data)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        h.update(b"b%d:" % len(data) + data)
    elif isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        h.update(f"a{arr.dtype.str}{arr.shape}:".encode())
        h.update(arr.tobytes())
    elif isinstance(obj, (list, tuple)):
        h.update(b"l%d:" % len(obj))
        for item in obj:
            _feed(h, item)
    elif isinstance(obj, dict):
        h.update(b"d%d:" % len(obj))
        for k in sorted(obj, key=str):
            _feed(h, str(k))
            _feed(h, obj[k])
    elif hasattr(obj, "samples") and hasattr(obj, "sample_rate"):  # crossaug Audio
        h.update(b"audio%d:" % int(obj.sample_rate))
        _feed(h, np.asarray(obj.samples))
    elif hasattr(obj, "tobytes") and hasattr(obj, "mode") and hasattr(obj, "size"):  # PIL image
        h.update(f"img{obj.mode}{tuple(obj.size)}:".encode())
        h.update(obj.tobytes())
    elif isinstance(obj, os.PathLike):
        _feed(h, os.fspath(obj))
    else:
        h.update(b"p" + pickle.dumps(obj, protocol=4))


def payload_digest(payload: Any) -> str:
    """A stable hex digest of a field payload (text, audio, image, array, JSON-like values).

    Example:
        >>> payload_digest("a") == payload_digest("a") != payload_digest("b")
        True
    """
    h = hashlib.blake2b(digest_size=20)
    _feed(h, payload)
    return h.hexdigest()


# -- the disk cache ---------------------------------------------------------------
class _Uncacheable(TypeError):
    pass


def _encode(value: Any, arrays: list[Any]) -> Any:
    """A JSON description of ``value``; its arrays are appended to ``arrays``."""
    import numpy as np

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, Produced):
        return {"produced": _encode(value.payload, arrays), "info": _encode(dict(value.info), arrays)}
    if isinstance(value, np.ndarray) and value.dtype != object:
        arrays.append(value)
        return {"array": len(arrays) - 1}
    if isinstance(value, np.generic):
        return _encode(value.item(), arrays)
    if hasattr(value, "samples") and hasattr(value, "sample_rate"):  # crossaug Audio
        return {"audio": _encode(np.asarray(value.samples), arrays), "rate": int(value.sample_rate)}
    if hasattr(value, "tobytes") and hasattr(value, "mode") and hasattr(value, "size") \
            and value.mode not in ("P", "PA"):  # PIL image (palette images: not cached, raw bytes lose the palette)
        arrays.append(np.frombuffer(value.tobytes(), dtype=np.uint8))
        return {"image": len(arrays) - 1, "mode": value.mode, "size": list(value.size)}
    raise _Uncacheable(type(value).__name__)


def _decode(node: Any, arrays: Any) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if "dict" in node:
        return {k: _decode(v, arrays) for k, v in node["dict"].items()}
    if "produced" in node:
            return Produced(_decode(node["produced"], arrays), _decode(node["info"], arrays))
    if "array" in node:
        return arrays[f"a{int(node['array'])}"]
    if "audio" in node:
        from .modalities.audio import Audio

        return Audio(_decode(node["audio"], arrays), int(node["rate"]))
    if "image" in node:
        from PIL import Image

        return Image.frombytes(str(node["mode"]), tuple(node["size"]), arrays[f"a{int(node['image'])}"].tobytes())
    raise ValueError(f"unknown cache node {sorted(node)}")


class DiskCache:
    """Values under ``root``, one ``.npz`` file per key (JSON + arrays, no pickle), written atomically.

    Args:
        root: the cache directory (created).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(*parts: Any) -> str:
        """A hex key for JSON-able ``parts``."""
        text = json.dumps([_FORMAT, *parts], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` on a hit, ``(False, None)`` on a miss or a refused entry.

        Entries are read with ``allow_pickle=False``: a pickled, torn or foreign file is
        refused (and recomputed), never executed.
        """
        import numpy as np

        p = self.path(key)
        try:
            with np.load(p, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"cache format {meta.get('format')!r}, expected {_FORMAT}")
            return True, _decode(meta["value"], arrays)
        except FileNotFoundError:
            return False, None
        except Exception as exc:  # a torn, pickled or foreign file: refuse it and recompute
            log.warning("refusing cache entry %s: %s", p, exc)
            return False, None

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (atomically: readers never see half a file); values of other types are skipped."""
        import numpy as np

        arrays: list[Any] = []
        try:
            meta = {"format": _FORMAT, "value": _encode(value, arrays)}
        except _Uncacheable as exc:
            log.debug("not caching a %s", exc)
            return
        blob = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        p = self.path(key)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, meta=blob, **{f"a{i}": a for i, a in enumerate(arrays)})
            os.replace(tmp, p)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*.npz"))

    def __repr__(self) -> str:
        return f"DiskCache({str(self.root)!r})"


_local = threading.local()


@contextmanager
def using_cache(cache_dir: str | Path | None) -> Iterator[DiskCache | None]:
    """Make ``cache_dir`` the active result cache in this thread for the block (``None``: unchanged)."""
    previous = getattr(_local, "cache", None)
    if cache_dir is not None:
        _local.cache = DiskCache(cache_dir)
    try:
        yield active_cache()
    finally:
        _local.cache = previous


def active_cache() -> DiskCache | None:
    """The cache set by :func:`using_cache` in this thread, else ``$CROSSAUG_CACHE_DIR``, else ``None``."""
    cache = getattr(_local, "cache", None)
    if cache is not None:
        return cache
    env = os.environ.get(ENV_VAR)
    return DiskCache(env) if env else None


def step_cache_key(step: Transform, payload: Any, seed: int) -> str:
    """The cache key of ``step`` applied to ``payload`` with ``seed``."""
    from .step import distribution_of_module

    plugin, version = distribution_of_module(type(step).__module__)
    return DiskCache.key({"step": step.to_dict(), "plugin": plugin, "version": version,
                          "model": step.model_id, "revision": step.model_revision,
                          "field": step.input_field}, payload_digest(payload), int(seed))


def cached_transform_batch(step: Transform, cache: DiskCache, samples: Sequence[Sample],
                           seeds: Sequence[int]) -> list[Any]:
    """``step.transform_batch`` over the samples not yet in ``cache``; the rest come from it."""
    keys = [step_cache_key(step, s.fields[step.input_field], seed) for s, seed in zip(samples, seeds)]
    results: list[Any] = [None] * len(samples)
    missing: list[int] = []
    for i, key in enumerate(keys):
        hit, value = cache.get(key)
        if hit:
            results[i] = value
        else:
            missing.append(i)
    hits = len(samples) - len(missing)
    if hits:
        with timed(f"{step.name}:cache-hit", hits):
            pass
    if missing:
        with timed(step.name, len(missing)):
            computed = step.transform_batch([samples[i] for i in missing], [seeds[i] for i in missing])
        if len(computed) != len(missing):
            raise RuntimeError(f"{step.name} returned {len(computed)} outputs for {len(missing)} inputs")
        for i, value in zip(missing, computed):
            cache.put(keys[i], value)
            results[i] = value
    return results


__all__ = ["cached_model", "cached_model_keys", "clear_models", "payload_digest", "DiskCache",
           "using_cache", "active_cache", "step_cache_key", "cached_transform_batch", "ENV_VAR"]
