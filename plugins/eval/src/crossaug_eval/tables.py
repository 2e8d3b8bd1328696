"""Markdown tables of an evaluation grid, complete or not (the docs' result tables).

:func:`grid_table` turns run records (from :func:`crossaug_eval.evaluate` or a
:class:`~crossaug_eval.cells.CellCache`) into one row per method and one column
per ``k``: mean accuracy [95% interval] (difference to no augmentation, paired
t-test p). A cell with fewer runs than the grid asks for says ``(n/N runs)``; a
cell with none says ``missing``. A second table gives affinity, diversity
(final training loss with / without augmentation, same set and seed) and label
preservation per method.

Example:
    >>> runs = [{"method": m, "k": 1, "data_seed": s, "train_seed": 0, "accuracy": a, "train_loss": 0.1}
    ...         for m, accs in {"none": [0.5, 0.6], "eda": [0.6, 0.7]}.items() for s, a in enumerate(accs)]
    >>> md, rows, quality = grid_table(runs, {}, ["none", "eda", "cmda"], [1, 5], runs_per_cell=2)
    >>> print(md.splitlines()[3])
    | eda | 0.650 [0.015, 1.285] (+0.100, p=0.00) | missing |
    >>> quality["eda"]["diversity"]
    1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .metrics.affinity import diversity as diversity_ratio
from .stats import summarise


def cell_text(row: Mapping[str, Any] | None, expected_runs: int) -> str:
    """One table cell: ``mean [low, high] (delta, p=..)``, ``(n/N runs)`` when partial, ``missing`` when empty."""
    if row is None:
        return "missing"
    text = f"{row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"
    if "delta" in row:
        p = row.get("p_t")
        text += f" ({row['delta']:+.3f}, p={'–' if p is None or math.isnan(p) else f'{p:.2f}'})"
    if row["runs"] < expected_runs:
        text += f" ({row['runs']}/{expected_runs} runs)"
    return text


def grid_table(results: Sequence[Mapping[str, Any]], qualities: Mapping[str, Mapping[str, Any]],
               methods: Sequence[str], shots: Sequence[int], runs_per_cell: int,
               header: Sequence[str] = (), baseline: str = "none") -> tuple[str, list[dict[str, Any]],
                                                                         dict[str, dict[str, Any]]]:
    """Markdown of a grid, its summary rows (:func:`crossaug_eval.stats.summarise`) and quality per method.

    Args:
        results: run records with method, k, data_seed, train_seed, accuracy, train_loss.
        qualities: stored affinity / label preservation per method (may lack methods).
        methods: rows, in order (the baseline first).
        shots: columns.
        runs_per_cell: runs a complete cell has (data seeds x training seeds).
        header: lines written above the tables (what was run, the command).
        baseline: the method differences and paired tests refer to.
    """
    rows = summarise(results, baseline=baseline)
    by_cell = {(r["method"], r["k"]): r for r in rows}
    lines = list(header)
    if lines:
        lines.append("")
    lines += ["| method | " + " | ".join(f"k={k}" for k in shots) + " |", "|---|" + "---|" * len(shots)]
    for m in methods:
        lines.append(f"| {m} | " + " | ".join(cell_text(by_cell.get((m, k)), runs_per_cell) for k in shots) + " |")
    loss = {(r["method"], r["k"], r["data_seed"], r["train_seed"]): r.get("train_loss") for r in results}
    quality: dict[str, dict[str, Any]] = {}
    for m in methods:
        ratios = []
        for (name, k, s, t), value in loss.items():
            ref = loss.get((baseline, k, s, t))
            if name == m and value is not None and ref is not None:
                d = diversity_ratio(value, ref)
                if not math.isnan(d):
                    ratios.append(d)
        quality[m] = {**dict(qualities.get(m) or {}), "diversity": float(np.mean(ratios)) if ratios else None}
    fmt = lambda v: "–" if v is None else f"{v:.3f}"
    lines += ["", "| method | affinity | diversity | label preservation |", "|---|---|---|---|"]
    for m in methods:
        q = quality[m]
        lines.append(f"| {m} | {fmt(q.get('affinity'))} | {fmt(q.get('diversity'))} | "
                     f"{fmt(q.get('label_preservation'))} |")
    return "\n".join(lines) + "\n", rows, quality


__all__ = ["grid_table", "cell_text"]
