"""CMDA contrastive losses for the common latent space (eq. 7 and eq. 8).

Both losses take the projected embeddings of ``N`` paired samples in two
modalities, ``za`` and ``zb`` (``N x d``), L2-normalise them and score the ``2N``
embeddings with cosine similarity divided by a temperature ``tau``.

* Unsupervised (eq. 7): for each embedding the positive is the other modality of
  the SAME sample; every other embedding of the batch (both modalities) is a
  negative (NT-Xent form)::

      L = 1/(2N) sum_k -log( exp(s(k, k+)/tau) / sum_{a != k} exp(s(k, a)/tau) )

* Supervised (eq. 8): positives are all other embeddings with the same class,
  both modalities (SupCon form)::

      L = 1/(2N) sum_k -1/|P(k)| sum_{p in P(k)} log( exp(s(k, p)/tau) / sum_{a != k} exp(s(k, a)/tau) )

  With all labels distinct, ``P(k) = {k+}`` and eq. 8 equals eq. 7.

Torch implementations (for training) and numpy references (for tests) agree.

Example:
    >>> import numpy as np
    >>> za = np.array([[1.0, 0.0], [0.0, 1.0]]); zb = za.copy()
    >>> round(unsupervised_contrastive_loss_np(za, zb, tau=1.0), 4)  # log(1 + 2/e)
    0.5514
    >>> round(supervised_contrastive_loss_np(za, zb, [0, 0], tau=1.0), 4)  # log(e + 2) - 1/3
    1.2181
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _positives_np(labels: np.ndarray) -> np.ndarray:
    same = labels[:, None] == labels[None, :]
    np.fill_diagonal(same, False)
    return same


def _stack_np(za: Any, zb: Any, tau: float) -> np.ndarray:
    za, zb = np.asarray(za, dtype=np.float64), np.asarray(zb, dtype=np.float64)
    if za.ndim != 2 or za.shape != zb.shape or za.shape[0] < 1:
        raise ValueError(f"za and zb must both be N x d with N >= 1, got {za.shape} and {zb.shape}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    z = np.concatenate([za, zb], axis=0)
    z = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return z


def _loss_np(z: np.ndarray, positives: np.ndarray, tau: float) -> float:
    n2 = z.shape[0]
    total = 0.0
    for k in range(n2):
        logits = [float(z[k] @ z[a]) / tau for a in range(n2) if a != k]
        m = max(logits)
        log_denominator = m + np.log(sum(np.exp(v - m) for v in logits))
        pos = [p for p in range(n2) if positives[k, p]]
        if not pos:
            continue
        total += -sum(float(z[k] @ z[p]) / tau - log_denominator for p in pos) / len(pos)
    return float(total / n2)


def unsupervised_contrastive_loss_np(za: Any, zb: Any, tau: float = 0.1) -> float:
    """Eq. 7, plain numpy loops (reference for tests)."""
    z = _stack_np(za, zb, tau)
    n = z.shape[0] // 2
    return _loss_np(z, _positives_np(np.concatenate([np.arange(n), np.arange(n)])), tau)


def supervised_contrastive_loss_np(za: Any, zb: Any, labels: Sequence[Any], tau: float = 0.1) -> float:
    """Eq. 8, plain numpy loops (reference for tests). Anchors without positives are skipped."""
    z = _stack_np(za, zb, tau)
    lab = np.asarray(list(labels))
    if lab.shape[0] != z.shape[0] // 2:
        raise ValueError(f"got {lab.shape[0]} labels for {z.shape[0] // 2} pairs")
    return _loss_np(z, _positives_np(np.concatenate([lab, lab])), tau)


def _contrastive_torch(za: Any, zb: Any, positives: Any, tau: float) -> Any:
    import torch
    import torch.nn.functional as F

    if za.ndim != 2 or za.shape != zb.shape:
        raise ValueError(f"za and zb must both be N x d, got {tuple(za.shape)} and {tuple(zb.shape)}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    z = F.normalize(torch.cat([za, zb], dim=0), dim=1)
    logits = z @ z.T / tau
    eye = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(eye, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    pos = positives.to(z.device) & ~eye
    count = pos.sum(dim=1)
    per_anchor = -(log_prob.masked_fill(~pos, 0.0)).sum(dim=1) / count.clamp(min=1)
    return per_anchor.sum() / z.shape[0]


def unsupervised_contrastive_loss(za: Any, zb: Any, tau: float = 0.1) -> Any:
    """Eq. 7 on torch tensors (differentiable): pull each sample's two modalities together.

    Args:
        za, zb: ``N x d`` projections of the same ``N`` samples in two modalities.
        tau: temperature.
    """
    import torch

    n = za.shape[0]
    ids = torch.cat([torch.arange(n), torch.arange(n)])
    return _contrastive_torch(za, zb, ids[:, None] == ids[None, :], tau)


def supervised_contrastive_loss(za: Any, zb: Any, labels: Any, tau: float = 0.1) -> Any:
    """Eq. 8 on torch tensors (differentiable): pull samples of the same class together.

    Args:
        za, zb: ``N x d`` projections in two modalities.
        labels: ``N`` integer class ids (tensor or sequence).
        tau: temperature.
    """
    import torch

    lab = torch.as_tensor(np.asarray(labels) if not isinstance(labels, torch.Tensor) else labels)
    if lab.shape[0] != za.shape[0]:
        raise ValueError(f"got {lab.shape[0]} labels for {za.shape[0]} pairs")
    lab = torch.cat([lab, lab]).to(za.device)
    return _contrastive_torch(za, zb, lab[:, None] == lab[None, :], tau)


__all__ = ["unsupervised_contrastive_loss", "supervised_contrastive_loss",
           "unsupervised_contrastive_loss_np", "supervised_contrastive_loss_np"]
