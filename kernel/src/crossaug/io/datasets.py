"""Dataset readers: every input becomes a stream of :class:`RawRecord`.

Records are light (values not yet decoded) so a run streams inputs of any size;
:func:`to_sample` coerces a record's values through their modalities, raising
:class:`~crossaug.BadSample` that names the record and field.

Supported sources:

* ``.jsonl`` — one JSON object per line; ``.csv``/``.tsv`` — a header row;
  keys whose prefix names a modality (``text``, ``audio``, ``image``,
  ``image.depth``) are fields, ``id`` and ``label`` are special, the rest is
  metadata. Media values are paths relative to the file.
* ``.txt`` — one text sample per non-empty line.
* a folder — class-per-subfolder; files become fields by extension, the
  subfolder name is the label.
* a Python iterable of :class:`~crossaug.Sample`, dicts or strings, or a
  Hugging Face ``datasets.Dataset``.

Example:
    >>> recs = list(iter_records(["a cat", {"id": "x", "text": "a dog", "label": 1}]))
    >>> [(r.id, r.values["text"], r.label) for r in recs]
    [('0', 'a cat', None), ('x', 'a dog', 1)]
"""

from __future__ import annotations

import csv
import errno
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadSample, ConfigError
from ..modality import field_modality
from ..sample import Sample, input_sample, modality_of
from .limits import MAX_DEPTH, check_value, max_bytes

EXTENSIONS = {
    ".txt": "text", ".wav": "audio", ".flac": "audio", ".ogg": "audio", ".mp3": "audio",
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".bmp": "image", ".gif": "image",
    ".webp": "image", ".tif": "image", ".tiff": "image",
}
RESERVED = {"id", "label", "parent_id", "recipe", "kept", "reason", "lineage"}


@dataclass
class RawRecord:
    """One input row before decoding: id, raw field values, label, metadata."""

    id: str
    values: dict[str, Any]
    label: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    base_dir: Path | None = None
    source: str | None = None
    error: str | None = None
    error_field: str | None = None


def known_modalities() -> set[str]:
    """Names of the registered modalities: a column named after one (or ``text.en``) is a data field."""
    from .. import registry

    return set(registry.names("modality"))


def _split_row(row: Mapping[str, Any], modalities: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    values, meta = {}, {}
    for k, v in row.items():
        if k in RESERVED:
            continue
        if isinstance(k, str) and modality_of(k) in modalities:
            if v is None or (isinstance(v, str) and v == "" and modality_of(k) != "text"):
                continue  # an empty media cell means "no such field"; empty text is an error later
            values[k] = v
        else:
            meta[str(k)] = v
    return values, meta


def _problem(row: Mapping[Any, Any]) -> tuple[str | None, str] | None:
    """(field, why) for the first value of ``row`` that JSON cannot hold, or None."""
    for k, v in row.items():
        if not isinstance(k, str):
            return None, f"non-string key {k!r}"
        why = check_value(k, f"column name {k!r}") or check_value(v, "value", 1)
        if why:
            return (k if check_value(k) is None else None), why
    return None


def _record(row: Any, index: int, stem: str | None, modalities: set[str],
            base_dir: Path | None, source: str | None) -> RawRecord:
    default_id = f"{stem}-{index}" if stem else str(index)
    if isinstance(row, Sample):
        bad = _problem({"id": row.id, "label": row.label, "meta": dict(row.meta)})
        rid = default_id if bad and bad[0] == "id" else row.id
        return RawRecord(rid, dict(row.fields), row.label, dict(row.meta), base_dir, source,
                         *(bad[::-1] if bad else ()))
    if isinstance(row, str):
        why = check_value(row, "value")
        return RawRecord(default_id, {"text": row}, None, {}, base_dir, source, why, "text" if why else None)
    if isinstance(row, Mapping):
        bad = _problem(row)
        rid = row.get("id")
        rid = default_id if rid in (None, "") or (bad and bad[0] == "id") else str(rid)
        values, meta = _split_row(row, modalities)
        error, error_field = (bad[1], bad[0]) if bad else (None, None)
        if not values and not error:
            error = f"row has no data field (columns: {sorted(map(str, row))}; expected one of {sorted(modalities)})"
        label = row.get("label")
        return RawRecord(rid, values, None if label == "" or bad else label, meta, base_dir, source,
                         error, error_field)
    return RawRecord(default_id, {}, None, {}, base_dir, source,
                     f"cannot read a sample from {type(row).__name__}")


def _lines(fh: Any, first: int = 1) -> Iterator[tuple[int, bytes | int]]:
    """(line number, bytes) per line; (line number, size) for a line over the ``row`` cap (not kept).
    ``first``: the number of the line ``fh`` is at."""
    cap = max_bytes("row")
    for lineno in itertools.count(first):
        raw = fh.readline(cap + 1)
        if not raw:
            return
        if len(raw) <= cap or raw.endswith(b"\n"):
            yield lineno, raw
            continue
        size = len(raw)
        while raw and not raw.endswith(b"\n"):
            raw = fh.readline(1 << 20)
            size += len(raw)
        yield lineno, size


def _too_long(path: Path, lineno: int, size: int) -> RawRecord:
    return RawRecord(f"{path.stem}-{lineno}", {}, source=f"{path}:{lineno}",
                     error=f"line is {size} bytes; limit is {max_bytes('row')} (CROSSAUG_MAX_BYTES_ROW)")


def _iter_jsonl(path: Path, modalities: set[str]) -> Iterator[RawRecord]:
    base, stem = path.parent, path.stem  # one object for every record (pickled once per batch)
    name = str(path)  # formatted once, not per line
    with path.open("rb") as fh:
        for lineno, raw in _lines(fh):
            if isinstance(raw, int):
                yield _too_long(path, lineno, raw)
                continue
            if not raw.strip():
                continue
            src = f"{name}:{lineno}"
            try:
                row = json.loads(raw.decode("utf-8").lstrip("\ufeff") if lineno == 1 else raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield RawRecord(f"{path.stem}-{lineno}", {}, error="line is not valid UTF-8", source=src)
                continue
            except json.JSONDecodeError as exc:
                yield RawRecord(f"{path.stem}-{lineno}", {}, error=f"malformed JSON: {exc.msg}", source=src)
                continue
            except RecursionError:
                yield RawRecord(f"{path.stem}-{lineno}", {}, source=src,
                                error=f"JSON nested more than {MAX_DEPTH} levels deep")
                continue
            yield _record(row, lineno, stem, modalities, base, src)


def _iter_csv(path: Path, modalities: set[str]) -> Iterator[RawRecord]:
    """Rows of a CSV/TSV; a malformed row (bad bytes, unclosed quote) is rejected and reading goes on after it."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    base, stem = path.parent, path.stem  # one object for every record (pickled once per batch)
    csv.field_size_limit(max(csv.field_size_limit(), max_bytes("row")))
    header: list[str] | None = None
    index, skip = 0, 0  # skip: lines consumed before the current reader started
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        while True:
            fh.seek(0)
            reader = csv.reader(itertools.islice(fh, skip, None), delimiter=delimiter, strict=True)
            first = skip + 1
            try:
                for cells in reader:
                    line, first = first, skip + reader.line_num + 1
                    if not cells:
                        continue
                    if header is None:
                        header = cells
                        continue
                    index += 1
                    rid, src = f"{path.stem}-{index}", f"{path}:{line}"
                    given = dict(zip(header, cells)).get("id")
                    rid = given if given and not check_value(given) else rid
                    bad = next((i for i, c in enumerate(cells) if check_value(c)), None)
                    if bad is not None:
                        byte = next(ord(ch) - 0xDC00 for ch in cells[bad] if "\udc80" <= ch <= "\udcff")
                        yield RawRecord(rid, {}, source=src, error_field=_column(header, bad),
                                        error=f"line {line} is not valid UTF-8 (byte 0x{byte:02x})")
                    elif len(cells) > len(header):
                        yield RawRecord(rid, {}, source=src,
                                        error=f"row has {len(cells)} cells; header has {len(header)}")
                    else:
                        row = dict(zip(header, cells + [None] * (len(header) - len(cells))))
                        yield _record(row, index, stem, modalities, base, src)
                return
            except csv.Error as exc:
                index += 1
                why = (f"unclosed quote: the quoted field starting on line {first} never ends"
                       if "end of data" in str(exc) else f"malformed CSV row starting on line {first}: {exc}")
                yield RawRecord(f"{path.stem}-{index}", {}, source=f"{path}:{first}", error=why)
                skip = first  # go on with the line after the one where the bad row started


def _column(header: list[str], i: int) -> str | None:
    return header[i] if i < len(header) and not check_value(header[i]) else None


def _iter_txt(path: Path) -> Iterator[RawRecord]:
    with path.open("rb") as fh:
        yield from txt_records(path, _lines(fh))


def txt_records(path: Path, lines: Iterable[tuple[int, bytes | int]]) -> Iterator[RawRecord]:
    """The records of a ``.txt`` file's ``lines`` (from :func:`_lines`): one per non-blank line."""
    base, stem = path.parent, path.stem  # one object for every record (pickled once per batch)
    name = str(path)  # formatted once, not per line
    for lineno, raw in lines:
        if isinstance(raw, int):
            yield _too_long(path, lineno, raw)
            continue
        line = raw.rstrip(b"\r\n")
        if not line or line.isspace():  # what strip() would leave empty, without the copy
            continue
        yield RawRecord(f"{stem}-{lineno}", {"text": line}, None, {}, base, f"{name}:{lineno}")


def _iter_folder(root: Path) -> Iterator[RawRecord]:
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(p for p in sub.rglob("*") if not p.name.startswith(".") and (p.is_file() or p.is_symlink())):
            mod = EXTENSIONS.get(f.suffix.lower())
            rel = f.relative_to(root)
            rid = str(rel.with_suffix("")).replace("\\", "/")
            if not f.is_file():  # a symlink that leads nowhere
                if f.is_symlink() and not f.exists():
                    try:
                        f.stat()
                        why = "broken symbolic link"
                    except OSError as exc:
                        why = "symbolic link loop" if exc.errno == errno.ELOOP else \
                            f"broken symbolic link (to {os.readlink(f)})"
                    yield RawRecord(rid, {}, sub.name, source=str(f), error=why, error_field=mod)
                continue
            if mod is None:
                yield RawRecord(rid, {}, sub.name, source=str(f),
                                error=f"unknown file type {f.suffix!r}; expected one of {sorted(EXTENSIONS)}")
                continue
            yield RawRecord(rid, {mod: rel}, sub.name, {"path": rel.as_posix()}, root, str(f))


def iter_records(source: Any) -> Iterator[RawRecord]:
    """Stream :class:`RawRecord` items from a path, an iterable or a Hugging Face dataset."""
    modalities = known_modalities()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ConfigError(f"input {path} does not exist")
        if path.is_dir():
            yield from _iter_folder(path)
            return
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _iter_jsonl(path, modalities)
        elif suffix in (".csv", ".tsv"):
            yield from _iter_csv(path, modalities)
        elif suffix == ".txt":
            yield from _iter_txt(path)
        else:
            raise ConfigError(f"input {path}: unsupported format {suffix!r}; use .jsonl, .csv, .tsv, .txt or a folder")
        return
    if isinstance(source, (bytes, Mapping)) or not isinstance(source, Iterable):
        raise ConfigError(f"input must be a path or an iterable of samples, got {type(source).__name__}")
    for index, row in enumerate(source):
        yield _record(row, index, None, modalities, None, None)


def dedupe(records: Iterable[RawRecord]) -> Iterator[RawRecord]:
    """Records with unique ids: a repeated id ``r1`` becomes ``r1#dup2`` (then ``#dup3``...), a bad record.

    ``crossaug run`` and ``crossaug validate`` both name a repeated row this way.

    Example:
        >>> [(r.id, r.error) for r in dedupe([RawRecord("r1", {}), RawRecord("r1", {})])][1]
        ('r1#dup2', "duplicate id 'r1'; ids must be unique")
    """
    seen: set[str] = set()
    for rec in records:
        if rec.id in seen:
            n = 2
            while f"{rec.id}#dup{n}" in seen:
                n += 1
            rec = RawRecord(f"{rec.id}#dup{n}", rec.values, rec.label, rec.meta, rec.base_dir, rec.source,
                            f"duplicate id {rec.id!r}; ids must be unique")
        seen.add(rec.id)
        yield rec


#: inputs larger than this get no row count (an indeterminate progress bar) when counting needs parsing
COUNT_MAX_BYTES = 64 << 20


def count_records(source: Any) -> int | None:
    """Rows in a dataset for a progress bar, or ``None`` when that would cost a second full parse.

    JSONL/TXT: newlines, read in chunks. CSV/TSV up to :data:`COUNT_MAX_BYTES`: rows after
    the header (a quoted field may hold newlines). Lists: ``len``. Folders and iterators: ``None``.
    """
    if not isinstance(source, (str, Path)):
        try:
            return len(source)
        except TypeError:
            return None
    p = Path(source)
    suffix = p.suffix.lower()
    if not p.is_file():
        return None
    if suffix in (".jsonl", ".txt"):
        with p.open("rb") as fh:  # in chunks: one huge line is never held whole (blank lines count too)
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    if suffix in (".csv", ".tsv") and p.stat().st_size <= COUNT_MAX_BYTES:
        with p.open(newline="", encoding="utf-8", errors="replace") as fh:
            try:
                return max(0, sum(1 for row in csv.reader(fh, delimiter="\t" if suffix == ".tsv" else ",")
                                  if row) - 1)
            except csv.Error:
                return None
    return None


def to_sample(record: RawRecord, required: Iterable[str] = ()) -> Sample:
    """Decode a record's values into a :class:`Sample` (raises :class:`BadSample`)."""
    if record.error:
        raise BadSample(record.error, sample_id=record.id, field=record.error_field, source=record.source)
    fields: dict[str, Any] = {}
    for name, value in record.values.items():
        try:
            fields[name] = field_modality(name).coerce(
                value, sample_id=record.id, field=name, base_dir=record.base_dir)
        except BadSample as exc:
            raise exc.located(sample_id=record.id, field=name) from None
    for name in required:
        if name not in fields:
            raise BadSample(f"missing field {name!r} (has {sorted(fields) or 'none'})",
                            sample_id=record.id, field=name, source=record.source)
    return input_sample(record.id, fields, record.label, dict(record.meta))


def row_to_sample(row: Any, index: int, required: Iterable[str] = (), modalities: set[str] | None = None) -> Sample:
    """One in-memory row (a Sample, a dict of columns, a string) as the runner decodes it; id ``str(index)`` if none."""
    rec = _record(row, index, None, known_modalities() if modalities is None else modalities, None, None)
    return to_sample(rec, required)


__all__ = ["RawRecord", "iter_records", "to_sample", "row_to_sample", "known_modalities", "dedupe", "count_records",
           "EXTENSIONS"]
