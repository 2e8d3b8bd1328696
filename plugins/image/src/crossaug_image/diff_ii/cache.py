"""On-disk cache of Diff-II stages (learned concepts, inversions), keyed by inputs and parameters.

Default location: ``$CROSSAUG_CACHE/diff-ii`` or ``$XDG_CACHE_HOME/crossaug/diff-ii``
(``~/.cache/crossaug/diff-ii``).

Example:
    >>> stable_key({"b": 1, "a": [1, 2]}) == stable_key({"a": [1, 2], "b": 1})
    True
    >>> import tempfile
    >>> cache = StageCache(tempfile.mkdtemp())
    >>> calls = []
    >>> [cache.get_or_compute("demo", {"x": 1}, lambda: calls.append(1) or [1.5]) for _ in range(2)]
    [[1.5], [1.5]]
    >>> len(calls)
    1
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any


def default_cache_dir() -> Path:
    """Where Diff-II caches concepts and inversions unless told otherwise."""
    if os.environ.get("CROSSAUG_CACHE"):
        return Path(os.environ["CROSSAUG_CACHE"]) / "diff-ii"
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "crossaug" / "diff-ii"


def image_digest(img: Any) -> str:
    """A content hash of a PIL image (mode, size and pixels)."""
    h = hashlib.sha256(f"{img.mode}:{img.size}".encode())
    h.update(img.tobytes())
    return h.hexdigest()[:32]


def stable_key(data: Any) -> str:
    """A short hash of JSON-serialisable ``data`` (key order does not matter)."""
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


class StageCache:
    """``torch.save``/``torch.load`` of stage results under ``root/<stage>/<key>.pt``.

    Args:
        root: cache directory (``None``: :func:`default_cache_dir`); ``False`` disables caching.
    """

    def __init__(self, root: str | Path | None | bool = None) -> None:
        self.enabled = root is not False
        self.root = default_cache_dir() if root in (None, True) else Path(str(root))

    def path(self, stage: str, key: str) -> Path:
        return self.root / stage / f"{key}.pt"

    def load(self, stage: str, key: str) -> Any:
        """The cached value, or ``None``."""
        if not self.enabled:
            return None
        p = self.path(stage, key)
        if not p.is_file():
            return None
        import torch

        return torch.load(p, map_location="cpu", weights_only=True)

    def get_or_compute(self, stage: str, key_data: Any, compute: Any) -> Any:
        """The cached result for ``key_data`` (hashed with :func:`stable_key`), else ``compute()`` saved.

        Makes any stage function cacheable, e.g.
        ``cache.get_or_compute("inversions", {"image": image_digest(img), ...}, lambda: ddim_invert(...))``.
        """
        key = stable_key(key_data)
        value = self.load(stage, key)
        if value is None:
            value = compute()
            self.save(stage, key, value)
        return value

    def save(self, stage: str, key: str, value: Any) -> None:
        if not self.enabled:
            return
        import torch

        p = self.path(stage, key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        torch.save(value, tmp)
        os.replace(tmp, p)


__all__ = ["StageCache", "default_cache_dir", "image_digest", "stable_key"]
