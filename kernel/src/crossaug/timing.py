"""Per-step wall-time accounting, collected by the runner into ``summary.json``.

Timings never enter the manifest (which must be byte-identical across runs).

Example:
    >>> with timed("demo.step"):
    ...     _ = sum(range(10))
    >>> "demo.step" in take_timings()
    True
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


def _table() -> dict[str, list[float]]:
    if not hasattr(_local, "table"):
        _local.table = {}
    return _local.table


@contextmanager
def timed(name: str, count: int = 1) -> Iterator[None]:
    """Add the time spent in the block (and ``count`` items) to ``name``'s total."""
    start = time.perf_counter()
    try:
        yield
    finally:
        entry = _table().setdefault(name, [0.0, 0])
        entry[0] += time.perf_counter() - start
        entry[1] += count


def take_timings() -> dict[str, list[float]]:
    """Return and reset this thread's ``{name: [seconds, items]}`` table."""
    table = dict(_table())
    _table().clear()
    return table


def merge_timings(into: dict[str, list[float]], extra: dict[str, list[float]]) -> None:
    for name, (secs, count) in extra.items():
        entry = into.setdefault(name, [0.0, 0])
        entry[0] += secs
        entry[1] += count
