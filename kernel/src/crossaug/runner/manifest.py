"""The output manifest: ``manifest.jsonl`` plus a commit journal that makes runs resumable.

Lines of finished parents are appended to ``manifest.jsonl`` (a batch's parents at
a time); a *group commit* then makes them durable: once per ``commit_interval``
seconds (and on close) a background thread writes the lines appended since the last
commit (with ``background=False`` the appending thread wrote them as it appended and
commits itself), fsyncs the manifest, and only then writes and fsyncs one journal
line per append, naming its parents and recording the manifest size after their
lines (journals of earlier versions, a line per parent, are read too). On resume the
manifest is truncated to the last journaled size (dropping any half-written or
unjournaled tail) and journaled parents are skipped: a crash (``kill -9``, power
loss) loses at most the last interval's parents, which are redone, and never
duplicates one.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> m = Manifest(d); m.open(resume=False)
    >>> m.commit([("a", ['{"id": "a~0"}'])]); m.close()
    >>> m2 = Manifest(d); m2.open(resume=True); sorted(m2.done)
    ['a']
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from orjson import OPT_APPEND_NEWLINE
from orjson import dumps as _orjson_dumps

from ..errors import ConfigError

STATE_DIR = ".crossaug"


def journal_line(ids: Sequence[str], end: int) -> bytes:
    """The journal line saying parents ``ids`` are in the manifest's first ``end`` bytes.

    Example:
        >>> journal_line(["in-1", "in-2"], 120)
        b'{"ids":["in-1","in-2"],"end":120}\\n'
    """
    try:
        return _orjson_dumps({"ids": ids, "end": end}, option=OPT_APPEND_NEWLINE)
    except TypeError:  # a lone surrogate in an id, or ids that are not a list: the standard library
        return json.dumps({"ids": list(ids), "end": end}, separators=(",", ":")).encode() + b"\n"

_clock = time.monotonic

#: default seconds between group commits (fsyncs)
COMMIT_INTERVAL = 0.25
#: appended bytes held for the next group commit before it is started early (twice this: the
#: appending thread commits itself, so memory stays bounded when the disk is slower than the run)
WRITE_AHEAD = 4 << 20


class Manifest:
    """Append-only, journaled writer of ``manifest.jsonl`` in ``out_dir``.

    Args:
        out_dir: the run's output directory.
        commit_interval: seconds between group commits (``0``: fsync after every :meth:`commit`).
        background: commit from a background thread (the default), or from the thread that calls
            :meth:`commit`, once ``commit_interval`` has passed or when the call comes a whole
            interval after the previous one (a slow batch: the next one will likely be slow too).
            The runner commits in the calling thread when that thread also runs the batches: a
            thread waiting for the interpreter lock after each write and fsync made every release
            of the lock by the computing thread (each numpy call does it) cost it a wake-up (a
            1-worker ``eda`` run 12-18% slower, ``typo`` about 3%), while a group commit's write
            and fsync block it about 1 ms.
    """

    def __init__(self, out_dir: str | Path, commit_interval: float = COMMIT_INTERVAL,
                 background: bool = True) -> None:
        if not commit_interval >= 0:
            raise ConfigError(f"commit_interval must be >= 0 seconds, got {commit_interval!r}")
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / "manifest.jsonl"
        self.journal_path = self.out_dir / STATE_DIR / "journal.jsonl"
        self.commit_interval = commit_interval
        self.background = background
        self._due = self._last = 0.0  # calling-thread commits: when the next is due; the last commit() call
        self.done: set[str] = set()  # parents journaled before this run (read by open(resume=True))
        self._fh: Any = None
        self._journal: Any = None
        self._end = 0
        self._blocks: list[bytes] = []  # appended lines not yet written to the file
        self._held = 0  # their size in bytes
        self._pending: list[bytes] = []  # their journal lines
        self._lock = threading.Lock()  # appends vs the committer taking what they wrote
        self._syncing = threading.Lock()  # one group commit at a time (and the file's writes in order)
        self._stop = threading.Event()
        self._wake = threading.Event()  # start the next group commit now
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def open(self, resume: bool) -> None:
        (self.out_dir / STATE_DIR).mkdir(parents=True, exist_ok=True)
        end = 0
        if resume:
            end = self._read_journal()
        elif self.path.exists() and self.path.stat().st_size > 0:
            raise ConfigError(f"{self.path} already exists; pass --resume to continue that run "
                              "or choose a new output directory")
        else:
            self.journal_path.write_bytes(b"")
        self._fh = open(self.path, "ab" if self.path.exists() else "wb")
        self._fh.truncate(end)
        self._fh.seek(end)
        self._end = end
        self._journal = open(self.journal_path, "ab")
        self._last = _clock()
        self._due = self._last + self.commit_interval
        if self.commit_interval > 0 and self.background:
            self._stop.clear()
            self._wake.clear()
            self._thread = threading.Thread(target=self._committer, name="crossaug-commit", daemon=True)
            self._thread.start()

    def _read_journal(self) -> int:
        end = 0
        good = 0
        if not self.journal_path.exists():
            if self.path.exists() and self.path.stat().st_size > 0:
                raise ConfigError(f"{self.path} has no journal; cannot resume safely")
            return 0
        data = self.journal_path.read_bytes()
        for line in data.split(b"\n"):
            if not line.strip():
                good += 1
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                break  # a torn last line: everything after it is uncommitted
            if "ids" in entry:
                self.done.update(entry["ids"])
            else:  # a journal line per parent, as runs before group journal lines wrote
                self.done.add(entry["id"])
            end = int(entry["end"])
            good += len(line) + 1
        size = self.path.stat().st_size if self.path.exists() else 0
        if end > size:
            raise ConfigError(f"{self.path} is shorter than its journal says ({size} < {end} bytes)")
        with open(self.journal_path, "r+b") as fh:  # drop a torn journal tail
            fh.truncate(min(good, len(data)))
        return end

    def commit(self, entries: Sequence[tuple[str, bytes | Sequence[str]]]) -> None:
        """Append the lines of finished parents (one ``bytes`` block each, or their lines): :meth:`append`."""
        ids, blocks = [], []
        for parent_id, block in entries:
            ids.append(parent_id)
            blocks.append(block if isinstance(block, bytes)
                          else "".join(line + "\n" for line in block).encode("utf-8", "backslashreplace"))
        self.append(ids, b"".join(blocks))

    def append(self, ids: Sequence[str], block: bytes) -> None:
        """Append ``block``, the lines of the finished parents ``ids`` (each line ending with a newline).

        They become durable (fsynced, then journaled as one journal line) at the next group
        commit, at most ``commit_interval`` seconds later (with ``background=False``: at the first
        call after that), or on :meth:`sync` / :meth:`close`. With a background committer the
        appending thread makes no system call (a write could wait on the committer's fsync) and
        the committer writes them; without one, they are written at once, while the lines are
        still in the processor's caches (a 1-worker ``typo`` run spent 0.7 instead of 1.1-1.7 µs
        per input appending and committing). Until journaled, lines in the file are not part of
        the run: a resume cuts the file back to the journal.
        """
        if self._error is not None:
            raise self._error
        if not ids:
            return
        if self._thread is None:  # the appending thread commits too: it writes at once
            try:
                self._fh.write(block)
            except BaseException as exc:
                self._error = exc
                raise
        with self._lock:
            if self._thread is not None:  # held for the committer to write
                self._blocks.append(block)
                self._held += len(block)
            self._end += len(block)
            self._pending.append(journal_line(ids, self._end))
            held = self._held
        if self._thread is None:
            now = _clock()
            if now >= self._due or now - self._last >= self.commit_interval or held > WRITE_AHEAD:
                try:
                    self.sync()
                except BaseException as exc:  # as from the committer thread: nothing more is journaled
                    self._error = exc  # (the manifest may hold part of what was being written)
                    raise
                self._due = now + self.commit_interval
            self._last = now
        elif held > 2 * WRITE_AHEAD:
            self.sync()
        elif held > WRITE_AHEAD:
            self._wake.set()

    def _committer(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.commit_interval)
            self._wake.clear()
            try:
                self.sync()
            except BaseException as exc:  # reported by the next commit() or close()
                self._error = exc
                return

    def sync(self) -> None:
        """Group commit: write and fsync the manifest, then journal (and fsync) every parent appended before."""
        with self._syncing:
            with self._lock:
                if not self._pending:
                    return
                blocks, self._blocks, self._held = self._blocks, [], 0
                pending, self._pending = self._pending, []
            self._fh.write(b"".join(blocks))  # appends go on meanwhile; the journal names only what was written
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._journal.write(b"".join(pending))
            self._journal.flush()
            os.fsync(self._journal.fileno())

    def close(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join()
            self._thread = None
        try:
            if self._fh is not None and self._journal is not None and self._error is None:
                self.sync()
        finally:
            for fh in (self._fh, self._journal):
                if fh is not None:
                    fh.close()
            self._fh = self._journal = None
        if self._error is not None:
            raise self._error


def read_manifest(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the records of a manifest (a directory or the ``manifest.jsonl`` path)."""
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.jsonl"
    with p.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


__all__ = ["Manifest", "read_manifest", "STATE_DIR"]
