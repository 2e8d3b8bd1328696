"""``summary.json``: counts, rejection reasons and filter statistics computed from the manifest."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from .._json import to_jsonable
from ..sample import Sample
from .manifest import read_manifest
from .records import clean_reason


def _reason_key(reason: str) -> str:
    head = reason.split(":", 1)[0].strip()
    return head if len(head) < 60 else head[:60]


def rejection_stage(rec: dict[str, Any]) -> tuple[str, str]:
    """Where a rejected line was stopped and why, as ``(stage, reason)``, numbers written ``N``.

    Stages: ``input`` (the row did not decode), ``duplicate id`` (a repeated input id), ``filter NAME``
    (the filter that said no), ``duplicate output`` (the same output as an earlier candidate of
    that input) and ``recipe`` (a step failed or the recipe dropped the candidate).

    Example:
        >>> rejection_stage({"reason": "f: distance 0.3 > 0.2", "lineage": [
        ...     {"kind": "filter", "name": "f", "kept": False}]})
        ('filter f', 'distance N > N')
        >>> rejection_stage({"reason": "sample 'n7' field 'text': text is not English (de)", "lineage": []})
        ('input', 'text is not English')
    """
    reason = rec.get("reason") or ""
    lineage = rec.get("lineage") or []
    failed = next((s for s in reversed(lineage) if s.get("kind") == "filter" and s.get("kept") is False), None)
    if failed is not None:
        stage, reason = f"filter {failed['name']}", reason.removeprefix(f"{failed['name']}:")
    elif "duplicate id " in reason and not lineage:
        return "duplicate id", "an earlier row has this id"
    elif reason.startswith("duplicate: same output as "):
        return "duplicate output", "same output as an earlier candidate"
    else:
        stage = "recipe" if lineage else "input"
        reason = re.sub(r"^BadSample: |sample '[^']*'(?: field '[^']*')?: |\s*\([^()]*\)", "", reason)  # no ids, paths
    reason = re.sub(r"(?<![\w.-])\d+(?:\.\d+)?(?!\w)", "N", reason).strip()  # UTF-8 stays
    return stage, (reason if len(reason) <= 80 else reason[:79] + "…") or "rejected"


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


class Tally:
    """The counts behind ``summary.json``, added record by record.

    Workers tally the records of the lines they build and the runner merges the
    tallies, so a run never reads its manifest back; :func:`summarise` tallies a
    manifest (after a resume). Records are manifest lines as dicts.
    """

    def __init__(self, merged_only: bool = False) -> None:
        """``merged_only``: this tally only merges others, each holding all the lines of its
        inputs (the runner's: one tally per batch), so it keeps counts, not a dict per input."""
        self.parents: dict[str, int] = {}
        self.parent_label: dict[str, str] = {}
        self.merged_only = merged_only
        self.inputs = 0  # merged_only: inputs counted without keeping their ids
        self.without_output: list[str] = []
        self.input_labels: Counter[str] = Counter()
        self.out_labels: Counter[str] = Counter()
        self.produced = self.kept = self.rejected = 0
        self.reasons: Counter[str] = Counter()
        self.stages: Counter[tuple[str, str]] = Counter()  # (stage, reason) of each rejected line
        self.filters: dict[str, list[float]] = {}  # name -> [scored, rejected, score sum]

    def add(self, rec: dict[str, Any]) -> None:
        """Count one manifest line (a dict)."""
        kept = self.count(rec["parent_id"], rec.get("label"), rec["kept"])
        if not kept:
            self._rejected(rec)
        for step in rec.get("lineage", ()):
            if step.get("kind") == "filter" and step.get("score") is not None:
                self._filter(step["name"], step.get("kept"), step["score"])

    def add_sample(self, sample: Sample) -> None:
        """Count the line a produced sample is written as (what :meth:`add` counts of that line)."""
        kept = self.count(sample.root_id, None if sample.label is None else to_jsonable(sample.label), sample.kept)
        if not kept:
            self._rejected({"reason": clean_reason(sample.reason), "lineage": [s.to_dict() for s in sample.lineage]})
        for step in sample.lineage:
            if step.kind == "filter" and step.score is not None:
                self._filter(step.name, step.kept, step.score)

    def count(self, pid: str, label: Any, kept: Any) -> bool:
        """Count a line of parent ``pid`` with ``label`` (JSON-ready) as kept or not: what :meth:`add`
        counts of a line whose lineage holds no filter score, apart from a rejected line's reason.
        Returns whether it was kept."""
        parents = self.parents
        if pid not in parents:
            parents[pid] = 0
            if label is not None:
                self.parent_label[pid] = str(label)
        elif label is not None and pid not in self.parent_label:
            self.parent_label[pid] = str(label)
        self.produced += 1
        if kept:
            self.kept += 1
            parents[pid] += 1
            if label is not None:
                self.out_labels[str(label)] += 1
            return True
        return False

    def _rejected(self, rec: dict[str, Any]) -> None:
        self.rejected += 1
        self.reasons[_reason_key(rec.get("reason") or "")] += 1
        self.stages[rejection_stage(rec)] += 1

    def _filter(self, name: str, kept: Any, score: Any) -> None:
        f = self.filters.setdefault(name, [0, 0, 0.0])
        f[0] += 1
        f[1] += 0 if kept else 1
        f[2] += score

    def merge(self, other: Tally) -> None:
        if self.merged_only:
            self.inputs += len(other.parents) + other.inputs
            self.without_output += [pid for pid, n in other.parents.items() if n == 0] + other.without_output
            self.input_labels.update(other.parent_label.values())
            self.input_labels.update(other.input_labels)
        else:
            for pid, n in other.parents.items():
                self.parents[pid] = self.parents.get(pid, 0) + n
            for pid, label in other.parent_label.items():
                self.parent_label.setdefault(pid, label)
            self.inputs += other.inputs
            self.without_output += other.without_output
            self.input_labels.update(other.input_labels)
        self.out_labels.update(other.out_labels)
        self.produced += other.produced
        self.kept += other.kept
        self.rejected += other.rejected
        self.reasons.update(other.reasons)
        self.stages.update(other.stages)
        for name, (scored, rejected, total) in other.filters.items():
            f = self.filters.setdefault(name, [0, 0, 0.0])
            f[0] += scored
            f[1] += rejected
            f[2] += total

    def summary(self, balance_threshold_pp: float = BALANCE_THRESHOLD_PP) -> dict[str, Any]:
        filter_stats = {name: {"scored": int(f[0]), "rejected": int(f[1]),
                               "kept_ratio": round(1 - f[1] / f[0], 6) if f[0] else None,
                               "mean_score": round(f[2] / f[0], 6) if f[0] else None}
                        for name, f in sorted(self.filters.items())}
        input_labels = Counter(self.parent_label.values()) + self.input_labels
        labels = (label_balance(dict(input_labels), dict(self.out_labels), balance_threshold_pp)
                  if input_labels else None)
        rejections: dict[str, dict[str, int]] = {}
        for (stage, reason), count in sorted(self.stages.items(), key=lambda kv: (-kv[1], kv[0])):
            rejections.setdefault(stage, {})[reason] = count
        return {
            "inputs": len(self.parents) + self.inputs,
            "lines": self.produced,
            "kept": self.kept,
            "rejected": self.rejected,
            "kept_ratio": round(self.kept / self.produced, 6) if self.produced else None,
            "inputs_without_output": sorted([p for p, n in self.parents.items() if n == 0] + self.without_output),
            "rejection_reasons": dict(self.reasons.most_common()),
            "rejections": rejections,
            "filters": filter_stats,
            "labels": labels,
        }


def summarise(out_dir: Path, balance_threshold_pp: float = BALANCE_THRESHOLD_PP) -> dict[str, Any]:
    """Statistics of the manifest in ``out_dir`` (works after a resume too).

    ``labels`` (when the inputs have labels) counts inputs and kept outputs per
    label and warns when their shares differ by more than ``balance_threshold_pp``.
    """
    tally = Tally()
    for rec in read_manifest(out_dir):
        tally.add(rec)
    return tally.summary(balance_threshold_pp)
