"""Batches of a ``.txt`` input as line ranges that a local worker process reads itself.

A text file's records need no look-ahead (ids are line numbers, so they never repeat), so
instead of reading every line, building its record and pickling it to a worker, the parent only
finds where each batch's lines start (one ``bytes.find`` per line over 1 MiB reads, never a whole
line in memory) and sends ``(path, offset, line count, first line number)``; the worker reads
those lines with the same code as :func:`~crossaug.io.datasets.iter_records`, so the records, and
the manifest, are the same bytes. The runner uses it for a fresh run over a ``.txt`` path with
local process workers (which see the same files); any other run reads records as usual.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.txt"
    >>> _ = p.write_bytes(b"one\\n\\ntwo\\nthree")
    >>> parts = list(line_batches(p, lambda: 2))
    >>> [(b.first, b.count) for b in parts]
    [(1, 2), (3, 2)]
    >>> [r.id for b in parts for r in b.records()]
    ['in-1', 'in-3', 'in-4']
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .datasets import RawRecord, _lines, txt_records

#: bytes read at a time while looking for line ends
CHUNK = 1 << 20


@dataclass(frozen=True)
class TextLines:
    """``count`` lines of the text file ``path`` from byte ``start``, the first being line ``first``."""

    path: Path
    start: int
    count: int
    first: int

    def records(self) -> list[RawRecord]:
        """The records :func:`~crossaug.io.datasets.iter_records` gives for these lines."""
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            return list(txt_records(self.path, itertools.islice(_lines(fh, self.first), self.count)))


def line_batches(path: Path, size: Callable[[], int], spent: list[float] | None = None) -> Iterator[TextLines]:
    """Consecutive :class:`TextLines` of ``size()`` lines each (asked before each batch), covering
    every line of ``path`` as :func:`~crossaug.io.datasets.iter_records` counts them (a last line
    without a newline included); seconds spent looking are added to ``spent[0]``."""
    spent = [0.0] if spent is None else spent
    clock = time.perf_counter
    with path.open("rb") as fh:
        buf, buf_at = b"", 0  # bytes read last and the file offset of their first
        start, first, ended = 0, 1, False
        while not ended:
            began = clock()
            want, count, end = max(1, size()), 0, start
            while count < want:
                i = buf.find(b"\n", max(0, end - buf_at))
                if i >= 0:
                    end, count = buf_at + i + 1, count + 1
                    continue
                buf_at += len(buf)
                buf = fh.read(CHUNK)  # the part of a line already seen is dropped: only its end matters
                if not buf:
                    ended = True
                    if buf_at > end:  # a last line without a newline
                        end, count = buf_at, count + 1
                    break
            spent[0] += clock() - began
            if count:
                yield TextLines(path, start, count, first)
            start, first = end, first + count


__all__ = ["TextLines", "line_batches"]
