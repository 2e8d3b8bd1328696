"""Summary statistics of evaluation results: mean, 95% interval, paired tests.

Runs pair up across methods by ``(k, data_seed, train_seed)``: every method was
trained on augmentations of the same k-shot set with the same training seed, so
a method is compared with the no-augmentation baseline by a paired test on the
per-run differences (paired t-test and Wilcoxon signed-rank test).

Example:
    >>> m, lo, hi = mean_ci([0.5, 0.6, 0.7])
    >>> round(m, 3), round(lo, 3), round(hi, 3)
    (0.6, 0.352, 0.848)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# two-sided 97.5% quantiles of Student's t for small df (scipy is used when installed)
_T975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 6: 2.4469, 7: 2.3646, 8: 2.3060,
         9: 2.2622, 10: 2.2281, 15: 2.1314, 20: 2.0860, 30: 2.0423, 60: 2.0003, 120: 1.9799}


def t_quantile(df: int, q: float = 0.975) -> float:
    """Quantile ``q`` of Student's t with ``df`` degrees of freedom."""
    try:
        from scipy import stats

        return float(stats.t.ppf(q, df))
    except ImportError:
        if q != 0.975:
            raise
        keys = sorted(_T975)
        for key in keys:
            if df <= key:
                return _T975[key]
        return 1.959964


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the ``level`` confidence interval (Student's t) of ``values``.

    With one value the interval is that value on both ends.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if x.size == 1:
        return (mean, mean, mean)
    half = t_quantile(x.size - 1, 0.5 + level / 2) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return (mean, mean - half, mean + half)


def paired_t_test(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Two-sided paired t-test of ``a`` against ``b``: ``(t statistic, p value)``.

    Identical samples give ``(0.0, 1.0)``; constant non-zero differences ``(±inf, 0.0)``.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < 2:
        return (math.nan, math.nan)
    sd = float(d.std(ddof=1))
    if sd == 0.0:
        return (0.0, 1.0) if float(d.mean()) == 0.0 else (math.copysign(math.inf, float(d.mean())), 0.0)
    t = float(d.mean()) / (sd / math.sqrt(d.size))
    from scipy import stats

    return (t, float(2 * stats.t.sf(abs(t), d.size - 1)))


def wilcoxon_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p value of the paired differences (1.0 if all are zero)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size < 2:
        return math.nan
    if not np.any(d):
        return 1.0
    from scipy import stats

    return float(stats.wilcoxon(d, zero_method="zsplit").pvalue)


def summarise(results: Iterable[Mapping[str, Any]], baseline: str = "none",
              metric: str = "accuracy") -> list[dict[str, Any]]:
    """One row per (method, k): mean, 95% interval, runs, and tests against ``baseline``.

    Args:
        results: run records with ``method``, ``k``, ``data_seed``, ``train_seed`` and ``metric``.
        baseline: the method compared against (no augmentation).
        metric: the field summarised.
    """
    cells: dict[tuple[str, int], dict[tuple[int, int], float]] = defaultdict(dict)
    order: list[str] = []
    for r in results:
        if r.get(metric) is None:
            continue
        if r["method"] not in order:
            order.append(r["method"])
        cells[(r["method"], int(r["k"]))][(int(r["data_seed"]), int(r["train_seed"]))] = float(r[metric])
    rows = []
    for (method, k), runs in sorted(cells.items(), key=lambda kv: (kv[0][1], order.index(kv[0][0]))):
        mean, lo, hi = mean_ci(list(runs.values()))
        row: dict[str, Any] = {"method": method, "k": k, "runs": len(runs), "mean": mean,
                               "ci_low": lo, "ci_high": hi}
        base = cells.get((baseline, k))
        if base is not None and method != baseline:
            keys = sorted(set(runs) & set(base))
            a, b = [runs[key] for key in keys], [base[key] for key in keys]
            row["pairs"] = len(keys)
            row["delta"] = float(np.mean(np.subtract(a, b))) if keys else math.nan
            row["t"], row["p_t"] = paired_t_test(a, b)
            row["p_wilcoxon"] = wilcoxon_test(a, b)
        rows.append(row)
    return rows


__all__ = ["mean_ci", "paired_t_test", "wilcoxon_test", "summarise", "t_quantile"]
