"""LeMDA's augmentation network: an MLP-VAE over the concatenated modality features.

Liu et al. (2022), "Learning Multimodal Data Augmentation in Feature Space" (ICLR
2023): features of all modalities are concatenated, encoded to a Gaussian latent,
sampled, and decoded back into an augmented feature vector of the same size. The
adversarial signal reaches the augmentation network through a gradient-reversal
layer (Ganin and Lempitsky, 2015) placed between it and the task network.

Example:
    >>> import torch
    >>> net = AugmentationNetwork(6, hidden_dims=(8,), latent_dim=3)
    >>> x = torch.zeros(2, 6)
    >>> out, mu, logvar = net(x, generator=torch.Generator().manual_seed(0))
    >>> tuple(out.shape), tuple(mu.shape)
    ((2, 6), (2, 3))
    >>> x = torch.ones(3, requires_grad=True)
    >>> grad_reverse(x, 0.5).sum().backward()
    >>> x.grad.tolist()
    [-0.5, -0.5, -0.5]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..stylegan2._torch import import_torch

torch = import_torch()
from torch import nn  # noqa: E402


class _GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Any, scale: float) -> Any:  # type: ignore[override]
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:  # type: ignore[override]
        return -ctx.scale * grad, None


def grad_reverse(x: Any, scale: float = 1.0) -> Any:
    """Identity forward; multiplies the gradient by ``-scale`` backward."""
    return _GradReverse.apply(x, float(scale))


def _mlp(dims: Sequence[int]) -> Any:
    layers: list[Any] = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class AugmentationNetwork(nn.Module):
    """MLP-VAE: ``x -> (mu, logvar) -> z -> x_aug`` with ``x_aug`` the size of ``x``.

    Args:
        feature_dim: size of the concatenated feature vector.
        hidden_dims: hidden layer sizes of encoder (decoder mirrors them).
        latent_dim: VAE latent size (default: half of ``feature_dim``, at least 2).
    """

    def __init__(self, feature_dim: int, hidden_dims: Sequence[int] = (256,), latent_dim: int | None = None) -> None:
        super().__init__()
        latent_dim = latent_dim or max(2, feature_dim // 2)
        hidden = list(hidden_dims)
        self.encoder = _mlp([feature_dim] + hidden + [2 * latent_dim])
        self.decoder = _mlp([latent_dim] + hidden[::-1] + [feature_dim])
        self.config = {"feature_dim": int(feature_dim), "hidden_dims": [int(h) for h in hidden],
                       "latent_dim": int(latent_dim)}

    def forward(self, x: Any, generator: Any = None, noise_scale: float = 1.0) -> tuple[Any, Any, Any]:
        """Augmented features, latent mean and log-variance."""
        mu, logvar = self.encode(x)
        return self.decode(mu, logvar, generator, noise_scale), mu, logvar

    def encode(self, x: Any) -> tuple[Any, Any]:
        """Latent mean and log-variance of ``x`` ``[N, D]``."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, mu: Any, logvar: Any, generator: Any = None, noise_scale: float = 1.0) -> Any:
        """Augmented features from a latent drawn around ``mu`` with noise from ``generator``
        (reparameterisation: ``z = mu + noise_scale * eps * exp(logvar / 2)``)."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
        z = mu + noise_scale * eps * torch.exp(0.5 * logvar)
        return self.decoder(z)


__all__ = ["AugmentationNetwork", "grad_reverse"]
