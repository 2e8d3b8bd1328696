"""``summary.json``: counts, rejection reasons and filter statistics computed from the manifest."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .manifest import read_manifest


def _reason_key(reason: str) -> str:
    head = reason.split(":", 1)[0].strip()
    return head if len(head) < 60 else head[:60]


def summarise(out_dir: Path) -> dict[str, Any]:
    """Statistics of the manifest in ``out_dir`` (works after a resume too)."""
    parents: dict[str, int] = {}
    produced = kept = rejected = 0
    reasons: Counter[str] = Counter()
    filters: dict[str, dict[str, Any]] = defaultdict(lambda: {"scored": 0, "rejected": 0, "score_sum": 0.0})
    for rec in read_manifest(out_dir):
        pid = rec["parent_id"]
        parents.setdefault(pid, 0)
        produced += 1
        if rec["kept"]:
            kept += 1
            parents[pid] += 1
        else:
            rejected += 1
            reasons[_reason_key(rec.get("reason") or "")] += 1
        for step in rec.get("lineage", []):
            if step.get("kind") == "filter" and step.get("score") is not None:
                f = filters[step["name"]]
                f["scored"] += 1
                f["score_sum"] += step["score"]
                f["rejected"] += 0 if step.get("kept") else 1
    filter_stats = {name: {"scored": f["scored"], "rejected": f["rejected"],
                           "kept_ratio": round(1 - f["rejected"] / f["scored"], 6) if f["scored"] else None,
                           "mean_score": round(f["score_sum"] / f["scored"], 6) if f["scored"] else None}
                    for name, f in sorted(filters.items())}
    return {
        "inputs": len(parents),
        "lines": produced,
        "kept": kept,
        "rejected": rejected,
        "kept_ratio": round(kept / produced, 6) if produced else None,
        "inputs_without_output": sorted(p for p, n in parents.items() if n == 0),
        "rejection_reasons": dict(reasons.most_common()),
        "filters": filter_stats,
    }
