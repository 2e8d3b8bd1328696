"""A resumable evaluation grid: one small JSON file per training run (cell).

A cell is one training run of the protocol: (method, k, data seed, training
seed) inside a scope such as ``{"task": "text", "classifier": "text-finetune"}``.
:func:`crossaug_eval.evaluate` with ``cache=CellCache(...)`` looks every cell up
before training and writes it as soon as it is measured (write to a temporary
file, then rename), so an interrupted grid continues where it stopped and a
finished cell is never trained twice. Each cell records a fingerprint of the
settings that change its result (data, test set, budget, classifier options,
the method's parameters); a cell written under other settings is *stale*: it is
ignored, never mixed in, and overwritten when that cell is run again.

Per-method quality (affinity, label preservation) is cached the same way in
``quality.json`` beside the method's cells.

Example:
    >>> import tempfile
    >>> cache = CellCache(tempfile.mkdtemp(), {"task": "toy", "classifier": "lr"}, config={"budget": 5})
    >>> cache.get("eda", k=1, data_seed=0, train_seed=0) is None
    True
    >>> _ = cache.put("eda", 1, 0, 0, {"accuracy": 0.5, "train_loss": 0.1})
    >>> cache.get("eda", 1, 0, 0)["accuracy"], [r["method"] for r in cache.results()]
    (0.5, ['eda'])
    >>> CellCache(cache.root, cache.scope, config={"budget": 3}).get("eda", 1, 0, 0) is None  # stale
    True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from crossaug._json import to_jsonable
from crossaug.errors import ConfigError

_SAFE = re.compile(r"[^A-Za-z0-9._+-]")


def fingerprint(config: Mapping[str, Any]) -> str:
    """Short stable hash of a JSON-able settings mapping (key order does not matter).

    Example:
        >>> fingerprint({"a": 1, "b": [2]}) == fingerprint({"b": [2], "a": 1}) != fingerprint({"a": 2, "b": [2]})
        True
    """
    text = json.dumps(to_jsonable(dict(config)), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _part(value: Any, what: str) -> str:
    text = str(value)
    if not text or text in (".", ".."):
        raise ConfigError(f"cell cache: {what} {value!r} cannot name a folder")
    return _SAFE.sub("_", text)


class CellCache:
    """Cells of one grid scope under ``root``: ``root/<scope values>/<method>/k<k>-d<s>-t<t>.json``.

    Args:
        root: the output folder of the grid.
        scope: what the cells belong to, in folder order (e.g. task, classifier).
        config: settings shared by every cell of the scope; part of each cell's fingerprint.
    """

    def __init__(self, root: str | Path, scope: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> None:
        self.root = Path(root)
        self.scope = dict(scope)
        self.config = dict(config or {})
        self.folder = self.root.joinpath(*(_part(v, k) for k, v in self.scope.items()))
        self.stale = 0

    def _fp(self, params: Mapping[str, Any] | None) -> str:
        return fingerprint({"config": self.config, "params": dict(params or {})})

    def path(self, method: str, k: int, data_seed: int, train_seed: int) -> Path:
        """Where the cell of one training run lives."""
        return self.folder / _part(method, "method") / f"k{int(k)}-d{int(data_seed)}-t{int(train_seed)}.json"

    def _read(self, path: Path, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        try:
            cell = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # a torn or foreign file: run the cell again
            self.stale += 1
            return None
        if not isinstance(cell, dict) or cell.get("fingerprint") != self._fp(params):
            self.stale += 1
            return None
        return cell

    def _write(self, path: Path, cell: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(to_jsonable(cell), sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def get(self, method: str, k: int, data_seed: int, train_seed: int,
            params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The stored run, or ``None`` when it is missing or was made under other settings."""
        return self._read(self.path(method, k, data_seed, train_seed), params)

    def put(self, method: str, k: int, data_seed: int, train_seed: int, result: Mapping[str, Any],
            params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Store one run atomically and return the stored cell."""
        cell = {**self.scope, **dict(result), "method": method, "k": int(k), "data_seed": int(data_seed),
                "train_seed": int(train_seed), "fingerprint": self._fp(params),
                "config": self.config, "params": dict(params or {})}
        self._write(self.path(method, k, data_seed, train_seed), cell)
        return cell

    def get_quality(self, method: str, params: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The stored quality measurements of a method (affinity, label preservation), if current."""
        cell = self._read(self.folder / _part(method, "method") / "quality.json", params)
        return None if cell is None else dict(cell.get("quality") or {})

    def put_quality(self, method: str, quality: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> None:
        self._write(self.folder / _part(method, "method") / "quality.json",
                    {**self.scope, "method": method, "quality": dict(quality), "fingerprint": self._fp(params),
                     "config": self.config, "params": dict(params or {})})

    def _cells(self) -> Iterator[tuple[Path, dict[str, Any]]]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*/k*-d*-t*.json")):
            try:
                cell = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(cell, dict) and "accuracy" in cell:
                yield path, cell

    def results(self, params: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Every current run of the scope: cells made under this cache's ``config`` and, for the
        methods named in ``params``, under those method parameters (others: as stored)."""
        out = []
        for _, cell in self._cells():
            expected = (params or {}).get(cell.get("method"), cell.get("params"))
            if cell.get("fingerprint") == self._fp(expected):
                out.append(cell)
        return out

    def qualities(self) -> dict[str, dict[str, Any]]:
        """Current quality records per method."""
        out: dict[str, dict[str, Any]] = {}
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.glob("*/quality.json")):
            try:
                cell = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(cell, dict) and cell.get("fingerprint") == self._fp(cell.get("params")):
                out[str(cell.get("method"))] = dict(cell.get("quality") or {})
        return out


__all__ = ["CellCache", "fingerprint"]
