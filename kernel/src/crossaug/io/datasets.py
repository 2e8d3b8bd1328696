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
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadSample, ConfigError
from ..sample import Sample, modality_of

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


def _known_modalities() -> set[str]:
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


def _record(row: Any, index: int, stem: str | None, modalities: set[str],
            base_dir: Path | None, source: str | None) -> RawRecord:
    default_id = f"{stem}-{index}" if stem else str(index)
    if isinstance(row, Sample):
        return RawRecord(row.id, dict(row.fields), row.label, dict(row.meta), base_dir, source)
    if isinstance(row, str):
        return RawRecord(default_id, {"text": row}, None, {}, base_dir, source)
    if isinstance(row, Mapping):
        rid = row.get("id")
        rid = default_id if rid in (None, "") else str(rid)
        values, meta = _split_row(row, modalities)
        error = None
        if not values:
            error = f"row has no data field (columns: {sorted(map(str, row))}; expected one of {sorted(modalities)})"
        label = row.get("label")
        return RawRecord(rid, values, None if label == "" else label, meta, base_dir, source, error)
    return RawRecord(default_id, {}, None, {}, base_dir, source,
                     f"cannot read a sample from {type(row).__name__}")


def _iter_jsonl(path: Path, modalities: set[str]) -> Iterator[RawRecord]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            src = f"{path}:{lineno}"
            try:
                row = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield RawRecord(f"{path.stem}-{lineno}", {}, error="line is not valid UTF-8", source=src)
                continue
            except json.JSONDecodeError as exc:
                yield RawRecord(f"{path.stem}-{lineno}", {}, error=f"malformed JSON: {exc.msg}", source=src)
                continue
            yield _record(row, lineno, path.stem, modalities, path.parent, src)


def _iter_csv(path: Path, modalities: set[str]) -> Iterator[RawRecord]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(newline="", encoding="utf-8", errors="strict") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            for index, row in enumerate(reader, 1):
                if None in row:
                    yield RawRecord(f"{path.stem}-{index}", {}, source=f"{path}:{reader.line_num}",
                                    error=f"row has {len(row) - 1 + len(row[None])} cells; header has {len(row) - 1}")
                    continue
                yield _record(row, index, path.stem, modalities, path.parent, f"{path}:{reader.line_num}")
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not valid UTF-8 near byte {exc.start}") from None


def _iter_txt(path: Path) -> Iterator[RawRecord]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            yield RawRecord(f"{path.stem}-{lineno}", {"text": line}, None, {}, path.parent, f"{path}:{lineno}")


def _iter_folder(root: Path) -> Iterator[RawRecord]:
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(p for p in sub.rglob("*") if p.is_file() and not p.name.startswith(".")):
            mod = EXTENSIONS.get(f.suffix.lower())
            rid = str(f.relative_to(root).with_suffix("")).replace("\\", "/")
            if mod is None:
                yield RawRecord(rid, {}, sub.name, source=str(f),
                                error=f"unknown file type {f.suffix!r}; expected one of {sorted(EXTENSIONS)}")
                continue
            yield RawRecord(rid, {mod: f}, sub.name, {"path": str(f.relative_to(root))}, root, str(f))


def iter_records(source: Any) -> Iterator[RawRecord]:
    """Stream :class:`RawRecord` items from a path, an iterable or a Hugging Face dataset."""
    modalities = _known_modalities()
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


def to_sample(record: RawRecord, required: Iterable[str] = ()) -> Sample:
    """Decode a record's values into a :class:`Sample` (raises :class:`BadSample`)."""
    from ..modality import get_modality

    if record.error:
        raise BadSample(record.error, sample_id=record.id, source=record.source)
    fields: dict[str, Any] = {}
    for name, value in record.values.items():
        try:
            fields[name] = get_modality(modality_of(name)).coerce(
                value, sample_id=record.id, field=name, base_dir=record.base_dir)
        except BadSample as exc:
            raise exc.located(sample_id=record.id, field=name) from None
    for name in required:
        if name not in fields:
            raise BadSample(f"missing field {name!r} (has {sorted(fields) or 'none'})",
                            sample_id=record.id, field=name, source=record.source)
    meta = dict(record.meta)
    return Sample(record.id, fields, label=record.label, meta=meta)


__all__ = ["RawRecord", "iter_records", "to_sample", "EXTENSIONS"]
