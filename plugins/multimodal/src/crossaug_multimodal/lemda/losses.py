"""LeMDA losses: the augmentation network's VAE loss and the confidence-masked consistency.

Liu et al. (2022), Sec. 3: the augmentation network keeps augmented features
label-preserving with a consistency term, the KL divergence between the task
network's predictions on original and augmented features, computed only on
samples whose original prediction is confident (max probability >= threshold),
and stays a proper VAE (reconstruction + KL to the standard normal prior).

Example:
    >>> import torch
    >>> p = torch.tensor([[4.0, 0.0], [0.1, 0.0]])
    >>> round(float(confident_consistency_kl(p, p, threshold=0.6)), 6)
    0.0
    >>> # only row 0 is confident: KL(softmax([4, 0]) || uniform) = log 2 - H(softmax([4, 0]))
    >>> round(float(confident_consistency_kl(p, torch.zeros(2, 2), threshold=0.6)), 4)
    0.6031
"""

from __future__ import annotations

from typing import Any

from ..stylegan2._torch import import_torch

torch = import_torch()
import torch.nn.functional as F  # noqa: E402


def confident_consistency_kl(logits: Any, logits_aug: Any, threshold: float = 0.5) -> Any:
    """``KL(p || p_aug)`` averaged over samples with ``max p >= threshold`` (0 when none).

    ``p = softmax(logits)`` is treated as a constant target.
    """
    p = F.softmax(logits.detach(), dim=1)
    mask = p.max(dim=1).values >= threshold
    if not bool(mask.any()):
        return logits_aug.sum() * 0.0
    log_q = F.log_softmax(logits_aug, dim=1)
    kl = (p * (torch.log(p.clamp_min(1e-12)) - log_q)).sum(1)
    return kl[mask].mean()


def vae_loss(x: Any, x_aug: Any, mu: Any, logvar: Any, kl_weight: float = 1.0) -> Any:
    """Mean squared reconstruction error plus ``kl_weight`` times KL(q(z|x) || N(0, I)) per sample."""
    recon = (x_aug - x).pow(2).sum(1).mean()
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)).mean()
    return recon + kl_weight * kl


__all__ = ["confident_consistency_kl", "vae_loss"]
