"""Turning samples and rejections into manifest lines (media written beside them)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from .._json import to_jsonable
from ..io.datasets import RawRecord
from ..modality import get_modality
from ..sample import Sample, modality_of

MEDIA_DIR = "media"


def safe_name(text: str) -> str:
    """A filesystem-safe, collision-resistant version of an id or field name."""
    clean = re.sub(r"[^A-Za-z0-9._~-]+", "_", text).strip("._") or "x"
    if clean != text or len(clean) > 80:
        clean = f"{clean[:60]}-{hashlib.blake2b(text.encode(), digest_size=4).hexdigest()}"
    return clean


def dumps(record: dict[str, Any]) -> str:
    """Stable JSON for one manifest line."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


#: file stem of an input's own media, written once beside its outputs for the report's gallery
PARENT_STEM = "__parent__"


def _parent_fields(sample: Sample, out_dir: Path) -> dict[str, Any]:
    """The input's fields: inline values, and media saved once under its media folder."""
    out = {}
    for name, payload in sample.fields.items():
        modality = get_modality(modality_of(name))
        if modality.inline:
            out[name] = to_jsonable(modality.to_json(payload))
            continue
        folder = out_dir / MEDIA_DIR / safe_name(sample.root_id)
        stem = folder / f"{PARENT_STEM}.{safe_name(name)}"
        existing = folder / f"{stem.name}{modality.extension}"
        if not existing.exists():
            folder.mkdir(parents=True, exist_ok=True)
            existing = modality.save(payload, stem)
        out[name] = existing.relative_to(out_dir).as_posix()
    return out


def sample_line(sample: Sample, parent: Sample | None, recipe: str, out_dir: Path) -> str:
    """The manifest line of a produced (kept or rejected) sample; media files are written."""
    rec: dict[str, Any] = {
        "id": sample.id,
        "parent_id": sample.parent_id if sample.parent_id is not None else sample.id,
        "recipe": recipe,
        "kept": bool(sample.kept),
        "reason": sample.reason,
        "label": to_jsonable(sample.label),
    }
    media = out_dir / MEDIA_DIR / safe_name(rec["parent_id"])
    for name, payload in sample.fields.items():
        modality = get_modality(modality_of(name))
        if modality.inline:
            rec[name] = to_jsonable(modality.to_json(payload))
        else:
            media.mkdir(parents=True, exist_ok=True)
            written = modality.save(payload, media / f"{safe_name(sample.id)}.{safe_name(name)}")
            rec[name] = written.relative_to(out_dir).as_posix()
    if parent is not None:
        rec["parent"] = _parent_fields(parent, out_dir)
    if sample.meta:
        rec["meta"] = to_jsonable(dict(sample.meta))
    rec["lineage"] = [step.to_dict() for step in sample.lineage]
    return dumps(rec)


def rejection_line(record: RawRecord, reason: str, recipe: str) -> str:
    """The manifest line of an input that could not be processed at all."""
    rec: dict[str, Any] = {"id": record.id, "parent_id": record.id, "recipe": recipe, "kept": False,
                           "reason": reason, "label": to_jsonable(record.label)}
    for name, value in record.values.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            rec[name] = value
        elif isinstance(value, Path):
            rec[name] = str(value)
        elif isinstance(value, (bytes, bytearray)):
            rec[name] = {"bytes": len(value)}
        else:
            rec[name] = {"type": type(value).__name__}
    if record.source:
        rec["source"] = record.source
    rec["lineage"] = []
    return dumps(rec)
