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
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

from ..sample import Sample, input_sample
from .datasets import RawRecord, _lines, txt_records
from .limits import max_bytes, max_text_chars

#: bytes read at a time while looking for line ends
CHUNK = 1 << 20


#: a range of at most this many bytes is read at once and split (larger ones line by line, each
#: line read up to the row cap: a huge line is never held whole)
READ_AT_ONCE = 8 << 20


@dataclass(frozen=True)
class TextLines:
    """``count`` lines of the text file ``path`` from byte ``start``, the first being line ``first``;
    ``end`` (if known) is the byte after the last."""

    path: Path
    start: int
    count: int
    first: int
    end: int | None = None

    def _lines(self) -> list[tuple[int, bytes | int]]:
        """``(line number, bytes)`` of each line as :func:`~crossaug.io.datasets._lines` reads them
        (read at once, without the line end; line by line, with it: both ways strip it later), or
        the size of a line over the row cap."""
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            if self.end is None or self.end - self.start > READ_AT_ONCE:
                return list(itertools.islice(_lines(fh, self.first), self.count))
            data = fh.read(self.end - self.start)
        parts = data.split(b"\n")
        ended = parts[-1] == b""  # the range ends with a newline (else: the file's last line has none)
        if ended:
            parts.pop()
        if len(parts) != self.count:  # the file changed since its lines were found: read them one by one
            return replace(self, end=None)._lines()
        cap = max_bytes("row")
        out: list[tuple[int, bytes | int]] = list(zip(range(self.first, self.first + self.count), parts))
        last = len(parts) - 1
        for k, line in enumerate(parts):
            if len(line) > cap:  # what _lines reports of it: its size with its newline
                out[k] = (self.first + k, len(line) + (1 if ended or k < last else 0))
        return out

    def records(self) -> list[RawRecord]:
        """The records :func:`~crossaug.io.datasets.iter_records` gives for these lines."""
        with self.path.open("rb") as fh:
            fh.seek(self.start)
            return list(txt_records(self.path, itertools.islice(_lines(fh, self.first), self.count)))

    def decoded(self, required: Collection[str] = ()) -> tuple[LineRecords, list[Sample | None]]:
        """:meth:`records` (each built only when asked for) and, for each, its
        :func:`~crossaug.io.datasets.to_sample` when a line decodes to text the short way (the same
        sample), else ``None`` (decoding that record says why it fails, or takes the general way).

        Example:
            >>> import tempfile, pathlib
            >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.txt"
            >>> _ = p.write_bytes(b"one\\n\\n\\xff\\n")
            >>> records, samples = TextLines(p, 0, 3, 1).decoded(["text"])
            >>> [r.id for r in records], [s and s.fields for s in samples]
            (['in-1', 'in-3'], [{'text': 'one'}, None])
        """
        from ..modality import field_modality  # the text modality imports the readers' limits

        lines = self._lines()
        text = field_modality("text")
        short = set(required) <= {"text"} and getattr(text, "short_lines", bool)()
        limit, stem = max_text_chars(), self.path.stem
        kept: list[tuple[int, bytes | int]] = []
        ids: list[str] = []
        samples: list[Sample | None] = []
        for lineno, raw in lines:
            if isinstance(raw, int):  # a line over the row cap
                kept.append((lineno, raw))
                ids.append(f"{stem}-{lineno}")
                samples.append(None)
                continue
            line = raw.rstrip(b"\r\n")
            if not line or line.isspace():  # no record, as txt_records
                continue
            kept.append((lineno, line))
            ids.append(rid := f"{stem}-{lineno}")
            sample = None
            if short:  # TextModality.coerce's short way, then to_sample's input_sample
                try:
                    value = line.decode("utf-8")
                except UnicodeDecodeError:
                    value = ""
                if value and not value.isspace() and "\x00" not in value and len(value) <= limit:
                    sample = input_sample(rid, {"text": value}, None, {})
            samples.append(sample)
        return LineRecords(self.path, kept, ids), samples


class LineRecords(Sequence[RawRecord]):
    """The records of a text file's non-blank ``lines`` (``(line number, bytes without the line end)``,
    or the size of a line over the row cap), each built when asked for: the records of lines
    decoded already are asked for only when their input is rejected. ``ids`` lists their ids
    (``{stem}-{line number}``)."""

    def __init__(self, path: Path, lines: list[tuple[int, bytes | int]], ids: list[str]) -> None:
        self.path, self.lines, self.ids = path, lines, ids

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, index: int) -> RawRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[RawRecord]: ...

    def __getitem__(self, index: int | slice) -> RawRecord | list[RawRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return next(txt_records(self.path, [self.lines[index]]))


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
                yield TextLines(path, start, count, first, end)
            start, first = end, first + count


__all__ = ["TextLines", "LineRecords", "line_batches"]
