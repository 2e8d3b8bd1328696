"""CMDA contrastive losses for the common latent space (eq. 7 and eq. 8), as printed.

The paper's losses for ``m`` samples seen in ``K`` modalities (here ``K = 2``:
``za`` and ``zb``, ``N x d`` each; row ``i`` of both is sample ``i``), with
``e(i, l)^{p,q} = exp(sim(z_i^(p), z_l^(q)) / tau)`` and cosine ``sim``:

* eq. 7 (unsupervised)::

      l_i = -log( sum_{p != q} e(i, i)^{p,q} / sum_{p != q} sum_{l != i} e(i, l)^{p,q} )

* eq. 8 (supervised; ``m_y`` samples have class ``y``)::

      l_i = -1/(m_{y_i} - 1) sum_{j: y_j = y_i} log( sum_{p != q} e(i, j)^{p,q}
                                                    / sum_{p != q} sum_{l != i} e(i, l)^{p,q} )

* ``L_g = sum_i l_i`` (eq. 9): summed over samples, not averaged.

So unlike NT-Xent / SupCon, only cross-modal pairs count (``p != q``), both
directions are summed inside the log, and the positive is not in the
denominator (``l != i``), which makes the loss negative once pairs align.

The ``j = i`` term of eq. 8: the printed sum runs over every ``j`` with
``y_j = y_i``, which includes ``j = i`` (the eq. 7 term), while the normaliser
``m_{y_i} - 1`` counts the others only. ``include_self=True`` (default) keeps the
sum as printed; ``include_self=False`` drops ``j = i`` (the SupCon reading the
normaliser suggests). Samples alone in their class (``m_{y_i} = 1``, normaliser
0) contribute nothing.

``reduction="mean"`` divides by ``N`` and ``form="ntxent"`` selects the standard
NT-Xent / SupCon losses (both modalities as anchors, positive in the
denominator), the usual choice outside the paper.

Example:
    >>> import numpy as np
    >>> za = np.array([[1.0, 0.0], [0.0, 1.0]]); zb = za.copy()
    >>> round(unsupervised_contrastive_loss_np(za, zb, tau=1.0), 4)  # 2 * -log(2e / 2)
    -2.0
    >>> round(supervised_contrastive_loss_np(za, zb, [0, 0], tau=1.0), 4)  # 2 * -(1 + 0)
    -2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

FORMS = ("paper", "ntxent")
REDUCTIONS = ("sum", "mean")


def _normalise_np(za: Any, zb: Any, tau: float) -> tuple[np.ndarray, np.ndarray]:
    za, zb = np.asarray(za, dtype=np.float64), np.asarray(zb, dtype=np.float64)
    if za.ndim != 2 or za.shape != zb.shape or za.shape[0] < 1:
        raise ValueError(f"za and zb must both be N x d with N >= 1, got {za.shape} and {zb.shape}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")

    def unit(z: np.ndarray) -> np.ndarray:
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    return unit(za), unit(zb)


def _log_pair_np(za: np.ndarray, zb: np.ndarray, tau: float) -> np.ndarray:
    """``log sum_{p != q} e(i, l)^{p,q}`` for K = 2: ``log(exp(s_ab[i, l]) + exp(s_ab[l, i]))``."""
    s = za @ zb.T / tau
    return np.logaddexp(s, s.T)


def _log_denominator_np(log_e: np.ndarray) -> np.ndarray:
    n = log_e.shape[0]
    masked = np.where(np.eye(n, dtype=bool), -np.inf, log_e)
    top = np.max(masked, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return (top + np.log(np.sum(np.exp(masked - top), axis=1, keepdims=True)))[:, 0]


def unsupervised_contrastive_loss_np(za: Any, zb: Any, tau: float = 0.1, reduction: str = "sum") -> float:
    """Eq. 7 summed over samples (numpy). Needs ``N >= 2`` (the denominator sums over ``l != i``)."""
    a, b = _normalise_np(za, zb, tau)
    if a.shape[0] < 2:
        raise ValueError("eq. 7 needs N >= 2 samples (its denominator runs over the other samples)")
    log_e = _log_pair_np(a, b, tau)
    per = -(np.diag(log_e) - _log_denominator_np(log_e))
    return float(per.sum() / (a.shape[0] if reduction == "mean" else 1))


def supervised_contrastive_loss_np(za: Any, zb: Any, labels: Sequence[Any], tau: float = 0.1,
                                   include_self: bool = True, reduction: str = "sum") -> float:
    """Eq. 8 summed over samples (numpy); ``include_self`` keeps the printed ``j = i`` term."""
    a, b = _normalise_np(za, zb, tau)
    lab = np.asarray(list(labels))
    if lab.shape[0] != a.shape[0]:
        raise ValueError(f"got {lab.shape[0]} labels for {a.shape[0]} pairs")
    if a.shape[0] < 2:
        raise ValueError("eq. 8 needs N >= 2 samples (its denominator runs over the other samples)")
    log_e = _log_pair_np(a, b, tau)
    log_ratio = log_e - _log_denominator_np(log_e)[:, None]
    same = lab[:, None] == lab[None, :]
    count = same.sum(axis=1) - 1
    if not include_self:
        np.fill_diagonal(same, False)
    per = np.where(count > 0, -np.where(same, log_ratio, 0.0).sum(axis=1) / np.maximum(count, 1), 0.0)
    return float(per.sum() / (a.shape[0] if reduction == "mean" else 1))


# -- torch ------------------------------------------------------------------------
def _prepare_torch(za: Any, zb: Any, tau: float) -> tuple[Any, Any]:
    import torch.nn.functional as F

    if za.ndim != 2 or za.shape != zb.shape:
        raise ValueError(f"za and zb must both be N x d, got {tuple(za.shape)} and {tuple(zb.shape)}")
    if za.shape[0] < 2:
        raise ValueError("the contrastive losses need N >= 2 samples")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    return F.normalize(za, dim=1), F.normalize(zb, dim=1)


def _paper_log_ratio_torch(za: Any, zb: Any, tau: float) -> Any:
    import torch

    s = za @ zb.T / tau
    log_e = torch.logaddexp(s, s.T)
    eye = torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    log_den = torch.logsumexp(log_e.masked_fill(eye, float("-inf")), dim=1, keepdim=True)
    return log_e - log_den


def _reduce(per: Any, reduction: str) -> Any:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return per.sum() if reduction == "sum" else per.mean()


def _ntxent_torch(za: Any, zb: Any, positives: Any, tau: float) -> Any:
    """Standard NT-Xent / SupCon over the ``2N`` embeddings (mean over anchors)."""
    import torch

    z = torch.cat([za, zb], dim=0)
    logits = z @ z.T / tau
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = positives.to(z.device) & ~eye
    count = pos.sum(dim=1)
    per_anchor = -(log_prob.masked_fill(~pos, 0.0)).sum(dim=1) / count.clamp(min=1)
    return per_anchor.sum() / z.shape[0]


def unsupervised_contrastive_loss(za: Any, zb: Any, tau: float = 0.1, reduction: str = "sum",
                                  form: str = "paper") -> Any:
    """Eq. 7 on torch tensors (differentiable).

    Args:
        za, zb: ``N x d`` projections of the same ``N`` samples in two modalities.
        tau: temperature.
        reduction: ``sum`` over samples (eq. 9) or ``mean``.
        form: ``paper`` (eq. 7 as printed) or ``ntxent`` (standard NT-Xent, mean).
    """
    import torch

    za, zb = _prepare_torch(za, zb, tau)
    if form == "ntxent":
        ids = torch.arange(za.shape[0], device=za.device).repeat(2)
        return _ntxent_torch(za, zb, ids[:, None] == ids[None, :], tau)
    if form != "paper":
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    return _reduce(-torch.diagonal(_paper_log_ratio_torch(za, zb, tau)), reduction)


def supervised_contrastive_loss(za: Any, zb: Any, labels: Any, tau: float = 0.1, include_self: bool = True,
                                reduction: str = "sum", form: str = "paper") -> Any:
    """Eq. 8 on torch tensors (differentiable).

    Args:
        za, zb: ``N x d`` projections in two modalities.
        labels: ``N`` integer class ids (tensor or sequence).
        tau: temperature.
        include_self: keep the printed ``j = i`` term (see the module docstring).
        reduction: ``sum`` over samples (eq. 9) or ``mean``.
        form: ``paper`` (eq. 8 as printed) or ``ntxent`` (standard SupCon, mean).
    """
    import torch

    lab = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if lab.shape[0] != za.shape[0]:
        raise ValueError(f"got {lab.shape[0]} labels for {za.shape[0]} pairs")
    za, zb = _prepare_torch(za, zb, tau)
    lab = lab.to(za.device)
    if form == "ntxent":
        both = torch.cat([lab, lab])
        return _ntxent_torch(za, zb, both[:, None] == both[None, :], tau)
    if form != "paper":
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    log_ratio = _paper_log_ratio_torch(za, zb, tau)
    same = lab[:, None] == lab[None, :]
    count = same.sum(dim=1) - 1
    if not include_self:
        same = same & ~torch.eye(same.shape[0], dtype=torch.bool, device=same.device)
    per = -(log_ratio.masked_fill(~same, 0.0)).sum(dim=1) / count.clamp(min=1)
    per = torch.where(count > 0, per, torch.zeros_like(per))
    return _reduce(per, reduction)


__all__ = ["unsupervised_contrastive_loss", "supervised_contrastive_loss",
           "unsupervised_contrastive_loss_np", "supervised_contrastive_loss_np", "FORMS", "REDUCTIONS"]
