"""SLUMA's self-adaptive threshold as a pure function: an EMA of confidences decides what is kept.

SLUMA (Zheng et al., ACM MM 2024) tracks the model's learning status with an exponential
moving average of its confidence and keeps a generated or pseudo-labelled sample only when
its confidence reaches that average: low at first (almost everything is kept), rising as
confident samples come in. Our reading, in the form of FreeMatch's self-adaptive threshold
(Wang et al., ICLR 2023), one update per sample in order::

    tau_t = alpha * tau_{t-1} + (1 - alpha) * c_t        (tau_0 = initial)
    keep sample t  <=>  c_t >= tau_t

The update comes first, as in FreeMatch; for a single sample per step this is the same
verdict as ``c_t >= tau_{t-1}`` whenever ``alpha > 0``.

Example:
    >>> before, after, keep = ema_thresholds([0.4, 0.1, 0.5], alpha=0.5, initial=0.0)
    >>> [round(t, 4) for t in after], keep
    ([0.2, 0.15, 0.325], [True, False, True])
    >>> [round(t, 4) for t in before]
    [0.0, 0.2, 0.15]
"""

from __future__ import annotations

from collections.abc import Iterable


def ema_step(tau: float, confidence: float, alpha: float) -> float:
    """One EMA update: ``alpha * tau + (1 - alpha) * confidence``."""
    return alpha * tau + (1.0 - alpha) * confidence


def ema_thresholds(confidences: Iterable[float], alpha: float, initial: float = 0.0
                   ) -> tuple[list[float], list[float], list[bool]]:
    """Thresholds before and after each update, and each verdict, over ``confidences`` in order."""
    tau = float(initial)
    before: list[float] = []
    after: list[float] = []
    keep: list[bool] = []
    for c in confidences:
        before.append(tau)
        tau = ema_step(tau, float(c), alpha)
        after.append(tau)
        keep.append(float(c) >= tau)
    return before, after, keep


__all__ = ["ema_step", "ema_thresholds"]
