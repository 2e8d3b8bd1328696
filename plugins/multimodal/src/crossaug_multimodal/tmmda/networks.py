"""TMMDA's networks: a fully connected generator and discriminator, and the fusion head.

* :class:`Generator` maps a mixed token (plus Gaussian noise) to a virtual-modality token;
* :class:`Discriminator` scores a token as raw (1) or virtual (0);
* :class:`CrossModalFusion` lets each raw modality attend to the virtual modality
  (queries from the raw tokens, keys and values from the virtual ones), adds the result
  to the raw tokens, pools over time and predicts from the concatenation.

Example:
    >>> import torch
    >>> g = Generator(4, hidden=8)
    >>> g(torch.zeros(2, 3, 4), noise_std=0.0).shape
    torch.Size([2, 3, 4])
"""

from __future__ import annotations

from typing import Any

from ..stylegan2._torch import import_torch

torch = import_torch()
nn = torch.nn


class Generator(nn.Module):
    """Fully connected generator: ``z_t = MLP(m_t + noise)`` token by token."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, dim))

    def forward(self, mixed: Any, noise_std: float = 0.1, generator: Any = None) -> Any:
        if noise_std > 0:
            noise = torch.randn(mixed.shape, generator=generator, dtype=mixed.dtype, device="cpu").to(mixed.device)
            mixed = mixed + noise_std * noise
        return self.net(mixed)


class Discriminator(nn.Module):
    """Fully connected discriminator: one logit per token (raw modality vs virtual)."""

    def __init__(self, dim: int, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, tokens: Any) -> Any:
        return self.net(tokens).squeeze(-1)


class CrossModalFusion(nn.Module):
    """Raw modalities enhanced by cross-modal attention to the virtual modality, then a prediction head."""

    def __init__(self, dim: int, n_modalities: int, out_dim: int, heads: int = 1, hidden: int = 64) -> None:
        super().__init__()
        self.attn = nn.ModuleList(nn.MultiheadAttention(dim, heads, batch_first=True) for _ in range(n_modalities))
        self.norm = nn.ModuleList(nn.LayerNorm(dim) for _ in range(n_modalities))
        self.head = nn.Sequential(nn.Linear(dim * n_modalities, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, raws: list[Any], virtual: Any) -> Any:
        pooled = []
        for x, attn, norm in zip(raws, self.attn, self.norm):
            enhanced, _ = attn(x, virtual, virtual, need_weights=False)
            pooled.append(norm(x + enhanced).mean(dim=1))
        return self.head(torch.cat(pooled, dim=-1))


__all__ = ["Generator", "Discriminator", "CrossModalFusion"]
