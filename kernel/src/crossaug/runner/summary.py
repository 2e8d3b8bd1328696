"""``summary.json``: counts, rejection reasons and filter statistics computed from the manifest."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .manifest import read_manifest


def _reason_key(reason: str) -> str:
    head = reason.split(":", 1)[0].strip()
    return head if len(head) < 60 else head[:60]


#: warn when an output label's share differs from its input share by more than this (percentage points)
BALANCE_THRESHOLD_PP = 10.0


def label_balance(input_labels: dict[str, int], output_labels: dict[str, int],
                  threshold_pp: float = BALANCE_THRESHOLD_PP) -> dict[str, Any]:
    """Inputs and kept outputs per label, the largest share shift in percentage points, and a warning.

    Example:
        >>> b = label_balance({"pos": 5, "neg": 5}, {"pos": 8, "neg": 2})
        >>> b["shift_pp"], b["warning"]
        (30.0, 'augmentation shifts the label distribution by 30.0 percentage points (neg 50% -> 20%)')
    """
    n_in, n_out = sum(input_labels.values()), sum(output_labels.values())
    shift, worst = 0.0, None
    for label in sorted(set(input_labels) | set(output_labels)):
        a = 100.0 * input_labels.get(label, 0) / n_in if n_in else 0.0
        b = 100.0 * output_labels.get(label, 0) / n_out if n_out else 0.0
        if abs(b - a) > shift + 1e-9:
            shift, worst = abs(b - a), (label, a, b)
    shift = round(shift, 1) if n_out else 0.0
    warning = None
    if n_out and worst is not None and shift > threshold_pp:
        warning = (f"augmentation shifts the label distribution by {shift} percentage points "
                   f"({worst[0]} {worst[1]:.0f}% -> {worst[2]:.0f}%)")
    return {"inputs": dict(sorted(input_labels.items())), "outputs": dict(sorted(output_labels.items())),
            "shift_pp": shift, "threshold_pp": threshold_pp, "warning": warning}


def summarise(out_dir: Path, balance_threshold_pp: float = BALANCE_THRESHOLD_PP) -> dict[str, Any]:
    """Statistics of the manifest in ``out_dir`` (works after a resume too).

    ``labels`` (when the inputs have labels) counts inputs and kept outputs per
    label and warns when their shares differ by more than ``balance_threshold_pp``.
    """
    parents: dict[str, int] = {}
    parent_label: dict[str, str] = {}
    out_labels: Counter[str] = Counter()
    produced = kept = rejected = 0
    reasons: Counter[str] = Counter()
    filters: dict[str, dict[str, Any]] = defaultdict(lambda: {"scored": 0, "rejected": 0, "score_sum": 0.0})
    for rec in read_manifest(out_dir):
        pid = rec["parent_id"]
        parents.setdefault(pid, 0)
        if rec.get("label") is not None:
            parent_label.setdefault(pid, str(rec["label"]))
        produced += 1
        if rec["kept"]:
            kept += 1
            parents[pid] += 1
            if rec.get("label") is not None:
                out_labels[str(rec["label"])] += 1
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
    labels = (label_balance(dict(Counter(parent_label.values())), dict(out_labels), balance_threshold_pp)
              if parent_label else None)
    return {
        "inputs": len(parents),
        "lines": produced,
        "kept": kept,
        "rejected": rejected,
        "kept_ratio": round(kept / produced, 6) if produced else None,
        "inputs_without_output": sorted(p for p, n in parents.items() if n == 0),
        "rejection_reasons": dict(reasons.most_common()),
        "filters": filter_stats,
        "labels": labels,
    }
