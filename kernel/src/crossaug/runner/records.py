"""Turning samples and rejections into manifest lines (media written beside them)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from pathlib import Path
from typing import Any

from .._json import to_jsonable
from ..io.datasets import RawRecord
from ..io.limits import KEEP_CHARS, MAX_DEPTH, clip
from ..modality import Modality, get_modality
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
    return _plain(_ADDRESS.sub("", str(value)))


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), allow_nan=False)
_ENCODE = _ENCODER.encode
try:  # the C encoder built once, not once per line as JSONEncoder.encode does; the same text
    from json.encoder import c_make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover - CPython always has it
    _c_make_encoder = None
if _c_make_encoder is not None:
    _C_ENCODE = _c_make_encoder(None, _ENCODER.default, json.encoder.encode_basestring, None, ": ", ", ",
                                False, False, False)

    def _encode_value(value: Any) -> str:
        """JSON text of ``value`` exactly as :data:`_ENCODE` writes it (no circularity check: a cycle
        raises ``RecursionError``, which callers handle like any value JSON cannot hold)."""
        if type(value) is str:
            return _STR(value)
        return "".join(_C_ENCODE(value, 0))
else:  # pragma: no cover
    _encode_value = _ENCODE
_STR = json.encoder.encode_basestring


def dumps(record: dict[str, Any]) -> str:
    """Stable JSON for one manifest line; never raises (values JSON cannot hold are made plain)."""
    try:
        text = _encode_value(record)
        text.encode("utf-8")
        return text
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return _ENCODE(_plain(record))


_modalities: dict[str, Any] = {}


def _modality(field_name: str) -> Any:
    """The modality of a field (instances cached per field name: lines are built per sample)."""
    found = _modalities.get(field_name)
    if found is None:
        found = _modalities[field_name] = get_modality(modality_of(field_name))
    return found


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
        modality = _modality(name)
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
        modality = _modality(name)
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
_last_parent_json: tuple[Any, Path, str] = (None, Path(), "")


#: field name -> (its key's JSON text with the separators before and after it, its modality, or
#: ``None`` for an inline modality whose JSON is the payload itself)
_fields: dict[str, tuple[str, Any]] = {}


def _field(name: str) -> tuple[str, Any]:
    if name in _RECORD_KEYS:
        raise TypeError(f"field {name!r} shares its name with a manifest key")
    modality = _modality(name)
    plain = modality.inline and type(modality).to_json is Modality.to_json
    found = _fields[name] = (f", {_STR(name)}: ", None if plain else modality)
    return found


def _parent_json(sample: Sample, out_dir: Path) -> str:
    global _last_parent_json
    cached = _last_parent_json
    if cached[0] is sample and (cached[1] is out_dir or cached[1] == out_dir):
        return cached[2]
    text = _encode_value(_parent_fields(sample, out_dir))
    _last_parent_json = (sample, out_dir, text)
    return text


#: JSON text of a lineage step's first entries (name, kind, plugin, version) by their values: the
#: same for every output of a step, so a line encodes only what varies (params, seed, score...)
_step_heads: dict[tuple[Any, ...], str] = {}
_STEP_TAIL = _STEP_FIELDS[4:]
assert _STEP_FIELDS[:4] == ("name", "kind", "plugin", "version"), "update _step_text with LineageStep's fields"
_TAIL_KEYS = {name: f", {_STR(name)}: " for name in _STEP_TAIL}


def _step_text(step: LineageStep) -> str:
    """``_encode_value(step.to_dict())`` without the dict: the cached head, then each present entry."""
    head = (step.name, step.kind, step.plugin, step.version)
    try:
        text = _step_heads.get(head)
    except TypeError:  # an unhashable value (not from a Step): encode the whole dict
        return _encode_value(step.to_dict())
    if text is None:
        text = _encode_value({k: v for k, v in zip(("name", "kind", "plugin", "version"), head)
                              if v is not None and not (type(v) is tuple and not v)})[:-1]
        if len(_step_heads) < 1024:
            _step_heads[head] = text
    params = step.params  # the usual step (a head and its params) in one piece
    if type(params) is dict and text != "{" and step.seed is None and step.model is None \
            and step.revision is None and type(step.parent_ids) is tuple and not step.parent_ids \
            and step.score is None and step.kept is None and step.reason is None and step.runtime is None:
        return f'{text}, "params": {_encode_value(params)}}}'
    parts = [text]
    for name, value in step_entries(step, _STEP_TAIL):
        parts += (_TAIL_KEYS[name] if len(parts) > 1 or text != "{" else _TAIL_KEYS[name][2:],
                  _encode_value(value))
    parts.append("}")
    return "".join(parts)


def _line_text(sample: Sample, parent: Sample | None, recipe_json: str, out_dir: Path,
               steps: dict[int, str]) -> str:
    """The text :func:`sample_line` writes, joined from encoded pieces instead of encoding one dict.

    JSON text is compositional, so each piece is encoded on its own by the same encoder, in the
    dict's key order. ``steps`` caches the text of lineage steps shared by an input's outputs.
    Raises what the encoder raises on values JSON cannot hold (the caller falls back to the dict).
    """
    parent_id = sample.parent_id if sample.parent_id is not None else sample.id
    reason = sample.reason
    label = sample.label
    parts = ['{"id": ', _STR(sample.id), ', "parent_id": ', _STR(parent_id), ', "recipe": ', recipe_json,
             ', "kept": true, "reason": ' if sample.kept else ', "kept": false, "reason": ',
             "null" if reason is None else _encode_value(clean_reason(reason)),
             ', "label": ', "null" if label is None else _encode_value(to_jsonable(label))]
    media = None
    for name, payload in sample.fields.items():
        field = _fields.get(name) or _field(name)
        if field[1] is None:  # inline, written as it is (text)
            parts += (field[0], _STR(payload) if type(payload) is str else _encode_value(to_jsonable(payload)))
            continue
        modality = field[1]
        if modality.inline:
            value = modality.to_json(payload)
            parts += (field[0], _STR(value) if type(value) is str else _encode_value(to_jsonable(value)))
        else:
            if media is None:
                media = out_dir / MEDIA_DIR / media_folder(parent_id)
                media.mkdir(parents=True, exist_ok=True)
            written = save_atomic(modality, payload, media / f"{safe_name(sample.id)}.{safe_name(name)}")
            parts += (field[0], _STR(written.relative_to(out_dir).as_posix()))
    if parent is not None:
        parts += (', "parent": ', _parent_json(parent, out_dir))
    if sample.meta:
        parts += (', "meta": ', _encode_value(to_jsonable(dict(sample.meta))))
    encoded = []
    for step in sample.lineage:
        text = steps.get(id(step))
        if text is None:
            text = steps[id(step)] = _step_text(step)
        encoded.append(text)
    parts += (', "lineage": [', ", ".join(encoded), "]}")
    return "".join(parts)


def sample_block(group: list[Sample], parent: Sample | None, recipe: str, out_dir: Path) -> bytes:
    """The manifest lines of one input's outputs as UTF-8 (each ends with a newline); media are written.

    The same bytes as ``dumps(sample_record(...))`` per line, built without the intermediate dicts.
    """
    recipe_json = _encode_value(recipe)
    steps: dict[int, str] = {}
    out = []
    for sample in group:
        try:
            out.append(_line_text(sample, parent, recipe_json, out_dir, steps).encode("utf-8"))
        except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
            out.append(dumps(sample_record(sample, parent, recipe, out_dir)).encode("utf-8"))
    out.append(b"")
    return b"\n".join(out)


def rejection_line(record: RawRecord, reason: str, recipe: str) -> str:
    """The manifest line of an input that could not be processed at all (long values cut, sizes noted)."""
    return dumps(rejection_record(record, reason, recipe))


def rejection_record(record: RawRecord, reason: str, recipe: str) -> dict[str, Any]:
    """:func:`rejection_line` before JSON encoding (a dict)."""
    rec: dict[str, Any] = {"id": record.id, "parent_id": record.id, "recipe": recipe, "kept": False,
                           "reason": clean_reason(reason), "label": clip(to_jsonable(record.label))}
    for name, value in record.values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            rec[name] = clip(value)
        elif isinstance(value, Path):
            rec[name] = clip(str(value))
        elif isinstance(value, (bytes, bytearray)):
            rec[name] = {"bytes": len(value)}
        else:
            rec[name] = {"type": type(value).__name__}
    if record.source:
        rec["source"] = record.source
    rec["lineage"] = []
    return rec
