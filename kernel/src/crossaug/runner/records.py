"""Turning samples and rejections into manifest lines (media written beside them)."""

from __future__ import annotations

import enum
import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import Any

from orjson import OPT_PASSTHROUGH_DATACLASS, OPT_PASSTHROUGH_DATETIME
from orjson import dumps as _orjson_dumps

from .._json import to_jsonable
from ..io.datasets import RawRecord
from ..io.limits import KEEP_CHARS, MAX_DEPTH, clip
from ..modality import Modality, field_modality
from ..sample import _STEP_FIELDS, LineageStep, Sample, modality_of, step_entries

MEDIA_DIR = "media"


def safe_name(text: str) -> str:
    """A filesystem-safe, collision-resistant version of an id or field name."""
    clean = re.sub(r"[^A-Za-z0-9._~-]+", "_", text).strip("._") or "x"
    if clean != text or len(clean) > 80:
        clean = f"{clean[:60]}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"
    return clean


def media_folder(sample_id: str) -> str:
    """Name of an input's media folder: readable prefix plus a hash of the full id (never shared)."""
    clean = re.sub(r"[^A-Za-z0-9._~-]+", "_", sample_id).strip("._")[:48] or "x"
    return f"{clean}-{hashlib.blake2b(sample_id.encode('utf-8', 'backslashreplace'), digest_size=8).hexdigest()}"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def clean_reason(reason: str | None) -> str | None:
    """A reason as stored: no memory addresses (identical runs give identical lines), long ones cut."""
    if reason is None:
        return None
    reason = _ADDRESS.sub("", reason)
    return reason if len(reason) <= KEEP_CHARS else f"{reason[:KEEP_CHARS]}… ({len(reason)} characters)"


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` made storable whatever it holds: surrogates escaped, NaN/inf to null, other objects to text."""
    if depth > MAX_DEPTH:
        return "…"
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, dict):
        return {_plain(str(k)): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, enum.Enum):  # its value, as orjson writes it
        return _plain(value.value, depth + 1)
    return _plain(_ADDRESS.sub("", str(value)))


#: the stdlib encoder for what orjson refuses (lone surrogates, numpy values, objects), after
#: :func:`_plain`: the same compact layout
_FALLBACK = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
#: orjson would write datetimes in ISO form and dataclasses as objects; refused instead, they take
#: the :func:`_plain` path like every other object (their text), so a value is written the same
#: whichever path its line takes
_OPTIONS = OPT_PASSTHROUGH_DATETIME | OPT_PASSTHROUGH_DATACLASS


def dumps(record: dict[str, Any]) -> str:
    """Stable JSON for one manifest line; never raises (values JSON cannot hold are made plain).

    Compact (no spaces), UTF-8 as is, keys in the dict's order. Written by orjson; a record it
    refuses (a lone surrogate, a numpy value, a key that is not text, an object) is made plain
    first: surrogates escaped, NaN and infinities null, enum members their value, other objects
    (datetimes and dataclasses included) their text.

    Example:
        >>> dumps({"id": "a~0", "kept": True, "score": float("nan"), "text": "caf\u00e9"})
        '{"id":"a~0","kept":true,"score":null,"text":"café"}'
    """
    try:
        return _orjson_dumps(record, option=_OPTIONS).decode("utf-8")
    except (TypeError, ValueError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        return _FALLBACK(_plain(record))


def save_atomic(modality: Any, payload: Any, stem: Path) -> Path:
    """``modality.save`` to a temporary name, then renamed: a crash never leaves a torn file."""
    tmp = stem.with_name(f".{stem.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    written = modality.save(payload, tmp)
    final = Path(str(stem) + written.name[len(tmp.name):])
    os.replace(written, final)
    return final


#: file stem of an input's own media, written once beside its outputs for the report's gallery
PARENT_STEM = "__parent__"
_last_parent: tuple[Any, Path, dict[str, Any]] = (None, Path(), {})


def _parent_fields(sample: Sample, out_dir: Path) -> dict[str, Any]:
    """The input's fields: inline values, and media (re)written once per processing of the input."""
    global _last_parent
    cached = _last_parent
    if cached[0] is sample and (cached[1] is out_dir or cached[1] == out_dir):
        return cached[2]
    out = {}
    for name, payload in sample.fields.items():
        modality = field_modality(name)
        if modality.inline:
            out[name] = to_jsonable(modality.to_json(payload))
            continue
        folder = out_dir / MEDIA_DIR / media_folder(sample.root_id)
        folder.mkdir(parents=True, exist_ok=True)
        out[name] = save_atomic(modality, payload, folder / f"{PARENT_STEM}.{safe_name(name)}") \
            .relative_to(out_dir).as_posix()
    _last_parent = (sample, out_dir, out)
    return out


def sample_line(sample: Sample, parent: Sample | None, recipe: str, out_dir: Path) -> str:
    """The manifest line of a produced (kept or rejected) sample; media files are written."""
    return dumps(sample_record(sample, parent, recipe, out_dir))


def sample_record(sample: Sample, parent: Sample | None, recipe: str, out_dir: Path) -> dict[str, Any]:
    """:func:`sample_line` before JSON encoding (a dict); media files are written."""
    rec: dict[str, Any] = {
        "id": sample.id,
        "parent_id": sample.parent_id if sample.parent_id is not None else sample.id,
        "recipe": recipe,
        "kept": bool(sample.kept),
        "reason": clean_reason(sample.reason),
        "label": to_jsonable(sample.label),
    }
    media = None
    for name, payload in sample.fields.items():
        modality = field_modality(name)
        if modality.inline:
            rec[name] = to_jsonable(modality.to_json(payload))
        else:
            if media is None:
                media = out_dir / MEDIA_DIR / media_folder(rec["parent_id"])
                media.mkdir(parents=True, exist_ok=True)
            written = save_atomic(modality, payload, media / f"{safe_name(sample.id)}.{safe_name(name)}")
            rec[name] = written.relative_to(out_dir).as_posix()
    if parent is not None:
        rec["parent"] = _parent_fields(parent, out_dir)
    if sample.meta:
        rec["meta"] = to_jsonable(dict(sample.meta))
    rec["lineage"] = [step.to_dict() for step in sample.lineage]
    return rec


#: record keys the runner writes itself: a field with one of these names takes the dict path
_RECORD_KEYS = frozenset({"id", "parent_id", "recipe", "kept", "reason", "label", "parent", "meta", "lineage"})

#: field name -> its modality, or ``None`` for an inline modality whose JSON is the payload itself
_fields: dict[str, Any] = {}


def _field(name: str) -> Any:
    if name in _RECORD_KEYS:
        raise TypeError(f"field {name!r} shares its name with a manifest key")
    modality = field_modality(name)
    plain = modality.inline and type(modality).to_json is Modality.to_json
    found = _fields[name] = None if plain else modality
    return found


#: a lineage step's first entries (name, kind, plugin, version) as a dict, by their values: the
#: same for every output of a step, so a line builds only what varies (params, seed, score...)
_step_heads: dict[tuple[Any, ...], dict[str, Any]] = {}
assert _STEP_FIELDS[:5] == ("name", "kind", "plugin", "version", "params"), "update _step_dict with LineageStep"


def _step_dict(step: LineageStep) -> dict[str, Any]:
    """``step.to_dict()`` without the generator: the cached head plus the params, for the usual step."""
    found = plain_step_dict(step)
    return step.to_dict() if found is None else found


def plain_step_dict(step: LineageStep) -> dict[str, Any] | None:
    """``step.to_dict()`` of the usual step (name, kind, plugin, version and a params dict; no seed,
    model, score, verdict or runtime): the cached head plus the params. ``None`` for another step."""
    if type(step.params) is not dict or step.seed is not None or step.model is not None \
            or step.revision is not None or type(step.parent_ids) is not tuple or step.parent_ids \
            or step.score is not None or step.kept is not None or step.reason is not None \
            or step.runtime is not None:
        return None
    head = (step.name, step.kind, step.plugin, step.version)
    try:
        found = _step_heads.get(head)
    except TypeError:  # an unhashable value (not from a Step)
        return None
    if found is None:
        found = dict(step_entries(step, _STEP_FIELDS[:4]))
        if len(_step_heads) < 1024:
            _step_heads[head] = found
    out = found.copy()
    out["params"] = step.params
    return out


def _line_record(sample: Sample, parent: Sample | None, recipe: str, out_dir: Path,
                 steps: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """:func:`sample_record` with less per-line work (the general line of
    :func:`~crossaug.runner.blocks.input_block`): fields by their cached modality, the parent's
    fields once per input, and lineage steps shared by an input's outputs built once (``steps``)."""
    parent_id = sample.parent_id if sample.parent_id is not None else sample.id
    reason, label = sample.reason, sample.label
    rec: dict[str, Any] = {
        "id": sample.id, "parent_id": parent_id, "recipe": recipe, "kept": bool(sample.kept),
        "reason": None if reason is None else clean_reason(reason),
        "label": label if label is None or type(label) is str else to_jsonable(label),
    }
    media = None
    for name, payload in sample.fields.items():
        modality = _fields[name] if name in _fields else _field(name)
        if modality is None:  # inline, written as it is (text)
            rec[name] = payload if type(payload) is str else to_jsonable(payload)
        elif modality.inline:
            rec[name] = to_jsonable(modality.to_json(payload))
        else:
            if media is None:
                media = out_dir / MEDIA_DIR / media_folder(parent_id)
                media.mkdir(parents=True, exist_ok=True)
            written = save_atomic(modality, payload, media / f"{safe_name(sample.id)}.{safe_name(name)}")
            rec[name] = written.relative_to(out_dir).as_posix()
    if parent is not None:
        rec["parent"] = _parent_fields(parent, out_dir)
    if sample.meta:
        rec["meta"] = to_jsonable(dict(sample.meta))
    lineage = []
    for step in sample.lineage:
        found = steps.get(id(step))
        if found is None:
            found = steps[id(step)] = _step_dict(step)
        lineage.append(found)
    rec["lineage"] = lineage
    return rec


def rejection_line(record: RawRecord, reason: str, recipe: str) -> str:
    """The manifest line of an input that could not be processed at all (long values cut, sizes noted)."""
    return dumps(rejection_record(record, reason, recipe))


def _utf8(data: bytes | bytearray) -> str | None:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def rejection_record(record: RawRecord, reason: str, recipe: str) -> dict[str, Any]:
    """:func:`rejection_line` before JSON encoding (a dict)."""
    rec: dict[str, Any] = {"id": record.id, "parent_id": record.id, "recipe": recipe, "kept": False,
                           "reason": clean_reason(reason), "label": clip(to_jsonable(record.label))}
    for name, value in record.values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            rec[name] = clip(value)
        elif isinstance(value, Path):
            rec[name] = clip(str(value))
        elif isinstance(value, (bytes, bytearray)):  # a text file's line: its text, when it is UTF-8
            text = _utf8(value) if modality_of(name) == "text" else None
            rec[name] = {"bytes": len(value)} if text is None else clip(text)
        else:
            rec[name] = {"type": type(value).__name__}
    if record.source:
        rec["source"] = record.source
    rec["lineage"] = []
    return rec
