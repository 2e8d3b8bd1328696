"""The output manifest: ``manifest.jsonl`` plus a commit journal that makes runs resumable.

Lines for a batch of finished parents are appended to ``manifest.jsonl`` and
fsynced; then one journal line per parent records the manifest size after it.
On resume the manifest is truncated to the last committed size (dropping any
half-written tail) and committed parents are skipped: after a crash nothing is
lost and nothing is duplicated.

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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError

STATE_DIR = ".crossaug"


class Manifest:
    """Append-only, journaled writer of ``manifest.jsonl`` in ``out_dir``."""

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / "manifest.jsonl"
        self.journal_path = self.out_dir / STATE_DIR / "journal.jsonl"
        self.done: set[str] = set()
        self._fh: Any = None
        self._journal: Any = None

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
        self._journal = open(self.journal_path, "ab")

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
            self.done.add(entry["id"])
            end = int(entry["end"])
            good += len(line) + 1
        size = self.path.stat().st_size if self.path.exists() else 0
        if end > size:
            raise ConfigError(f"{self.path} is shorter than its journal says ({size} < {end} bytes)")
        with open(self.journal_path, "r+b") as fh:  # drop a torn journal tail
            fh.truncate(min(good, len(data)))
        return end

    def commit(self, entries: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Append the lines of finished parents and journal them (durably)."""
        if not entries:
            return
        ends = []
        for parent_id, lines in entries:
            self._fh.write("".join(line + "\n" for line in lines).encode("utf-8", "backslashreplace"))
            ends.append((parent_id, self._fh.tell()))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._journal.write("".join(json.dumps({"id": pid, "end": end}) + "\n" for pid, end in ends)
                            .encode("utf-8"))
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self.done.update(pid for pid, _ in entries)

    def close(self) -> None:
        for fh in (self._fh, self._journal):
            if fh is not None:
                fh.close()
        self._fh = self._journal = None


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
