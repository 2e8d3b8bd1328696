"""The Jensen-Shannon divergence term of TMMDA's generator (torch).

``JSD(P || Q) = 0.5 KL(P || M) + 0.5 KL(Q || M)`` with ``M = (P + Q) / 2``, where ``P`` and
``Q`` are softmax distributions over the feature dimension of each token, averaged over
tokens: it pulls the virtual modality's tokens towards the raw modalities' tokens.

Example:
    >>> import torch
    >>> x = torch.tensor([[[0.0, 1.0]]])
    >>> float(token_jsd(x, x))
    0.0
"""

from __future__ import annotations

from typing import Any

from ..stylegan2._torch import import_torch

torch = import_torch()


def token_jsd(a: Any, b: Any, eps: float = 1e-12) -> Any:
    """Mean over tokens of the JSD between ``softmax(a)`` and ``softmax(b)`` along the last axis."""
    p = torch.softmax(a.float(), dim=-1)
    q = torch.softmax(b.float(), dim=-1)
    m = 0.5 * (p + q)
    kl_pm = (p * ((p + eps).log() - (m + eps).log())).sum(-1)
    kl_qm = (q * ((q + eps).log() - (m + eps).log())).sum(-1)
    return (0.5 * kl_pm + 0.5 * kl_qm).mean()


__all__ = ["token_jsd"]
