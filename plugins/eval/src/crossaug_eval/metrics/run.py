"""Quality metrics of a finished run, per sample and per run.

Reads ``manifest.jsonl`` and writes ``quality.jsonl`` (one line per produced
sample: edit distance and embedding similarity to the parent for text fields,
distance to the parent for images) and ``quality.json`` (means per field,
image dispersion, label-preservation rate when a reference classifier is
given, kept/rejected ratios per filter). The report shows both.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from crossaug._json import to_jsonable
from crossaug.builtin.edit_distance import normalised_edit_distance
from crossaug.runner.manifest import read_manifest
from crossaug.sample import modality_of

from .dispersion import mean_distance_to, mean_pairwise_distance, pixel_features
from .filters import filter_ratios
from .preservation import label_preservation_rate
from .similarity import text_similarity

SKIP = {"id", "parent_id", "recipe", "kept", "reason", "label", "lineage", "parent", "meta", "source"}


def _mean(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def quality_metrics(out_dir: str | Path, *, embedder: Any = None, similarity: bool = True,
                    reference: Callable[[list[dict[str, Any]]], list[Any]] | None = None,
                    kept_only: bool = True) -> dict[str, Any]:
    """Compute and write ``quality.jsonl`` / ``quality.json`` for the run in ``out_dir``.

    Args:
        out_dir: a run's output directory.
        embedder: object with ``encode(texts) -> array`` for text similarity
            (default: the embedded all-MiniLM-L6-v2 when ``similarity``).
        similarity: compute embedding similarity for text fields (loads a model).
        reference: reference classifier: takes manifest records, returns one
            predicted label per record; gives the label-preservation rate.
        kept_only: score only kept samples.

    Returns the per-run dictionary written to ``quality.json``.
    """
    out = Path(out_dir)
    records = [r for r in read_manifest(out) if r.get("lineage") and (r.get("kept") or not kept_only)]
    per_sample: list[dict[str, Any]] = [{"id": r["id"], "parent_id": r["parent_id"]} for r in records]
    text_pairs: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    images: dict[tuple[str, str], list[tuple[int, np.ndarray]]] = defaultdict(list)
    parents_img: dict[tuple[str, str], np.ndarray] = {}
    for i, r in enumerate(records):
        parent = r.get("parent") or {}
        for name, value in r.items():
            if name in SKIP:
                continue
            mod = modality_of(name)
            if mod == "text" and isinstance(value, str) and isinstance(parent.get(name), str):
                per_sample[i][f"{name}.edit_distance"] = normalised_edit_distance(parent[name], value)
                text_pairs[name].append((i, parent[name], value))
            elif mod == "image" and isinstance(value, str) and (out / value).is_file():
                from PIL import Image

                with Image.open(out / value) as im:
                    feat = pixel_features(im)
                images[(r["parent_id"], name)].append((i, feat))
                pv = parent.get(name)
                if isinstance(pv, str) and (out / pv).is_file() and (r["parent_id"], name) not in parents_img:
                    with Image.open(out / pv) as im:
                        parents_img[(r["parent_id"], name)] = pixel_features(im)
    if similarity and text_pairs:
        if embedder is None:
            from ..embedding import shared_embedder

            embedder = shared_embedder()
        for name, pairs in text_pairs.items():
            sims = text_similarity([p for _, p, _ in pairs], [c for _, _, c in pairs], embedder)
            for (i, _, _), s in zip(pairs, sims):
                per_sample[i][f"{name}.similarity"] = float(s)
    run: dict[str, Any] = {"samples": len(records), "fields": {}}
    for name in sorted({k.rsplit(".", 1)[0] for row in per_sample for k in row if k not in ("id", "parent_id")}):
        stats = {}
        for metric in ("edit_distance", "similarity", "distance_to_parent"):
            vals = [row[f"{name}.{metric}"] for row in per_sample if f"{name}.{metric}" in row]
            if vals:
                stats[f"mean_{metric}"] = _mean(vals)
        run["fields"][name] = stats
    disp: dict[str, list[float]] = defaultdict(list)
    for (pid, name), items in images.items():
        disp[name].append(mean_pairwise_distance(np.stack([f for _, f in items])))
        if (pid, name) in parents_img:
            for i, f in items:
                per_sample[i][f"{name}.distance_to_parent"] = mean_distance_to(f, parents_img[(pid, name)])
    for name, vals in disp.items():
        stats = run["fields"].setdefault(name, {})
        stats["dispersion"] = _mean(vals)
        d = [row[f"{name}.distance_to_parent"] for row in per_sample if f"{name}.distance_to_parent" in row]
        if d:
            stats["mean_distance_to_parent"] = _mean(d)
    if reference is not None and records:
        predicted = reference(records)
        run["label_preservation"] = label_preservation_rate([r.get("label") for r in records], predicted)
        for row, p in zip(per_sample, predicted):
            row["reference_prediction"] = to_jsonable(p)
    summary_path = out / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        run["filters"] = filter_ratios(summary.get("filters") or {})
        run["kept_ratio"] = summary.get("kept_ratio")
    with (out / "quality.jsonl").open("w", encoding="utf-8") as fh:
        for row in per_sample:
            fh.write(json.dumps(to_jsonable(row), allow_nan=False, default=str) + "\n")
    (out / "quality.json").write_text(json.dumps(to_jsonable(run), indent=2) + "\n", encoding="utf-8")
    return run


__all__ = ["quality_metrics"]
