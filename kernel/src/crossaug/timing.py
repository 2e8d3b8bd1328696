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

_local = threading.local()
_clock = time.perf_counter


def _table() -> dict[str, list[float]]:
    if not hasattr(_local, "table"):
        _local.table = {}
    return _local.table


class timed:  # noqa: N801 - used like a function: ``with timed(name):``
    """Add the time spent in the block (and ``count`` items) to ``name``'s total.

    A plain class rather than a generator context manager: it wraps every augmentation call.
    """

    __slots__ = ("name", "count", "start")

    def __init__(self, name: str, count: int = 1) -> None:
        self.name = name
        self.count = count

    def __enter__(self) -> None:
        self.start = _clock()

    def __exit__(self, *exc: object) -> None:
        add_timing(self.name, _clock() - self.start, self.count)


def add_timing(name: str, seconds: float, count: int = 1) -> None:
    """Add ``seconds`` (and ``count`` items) to ``name``'s total in this thread's table: what
    :class:`timed` does on leaving its block, for a hot path that reads the clock itself."""
    try:
        entry = _local.table.get(name)
    except AttributeError:
        entry = None
    if entry is None:
        entry = _table().setdefault(name, [0.0, 0])
    entry[0] += seconds
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
