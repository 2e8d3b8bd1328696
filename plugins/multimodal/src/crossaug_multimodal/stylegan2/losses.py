"""StyleGAN2 losses: non-saturating logistic GAN loss and R1 regularisation.

Goodfellow et al. (2014) non-saturating loss as used by StyleGAN/StyleGAN2, and the
R1 gradient penalty of Mescheder et al. (2018) on real images, applied lazily every
``r1_every`` steps (StyleGAN2 Sec. 3.1, "lazy regularization", interval 16).

Example:
    >>> import torch
    >>> round(float(d_logistic_loss(torch.zeros(4), torch.zeros(4))), 4)  # 2 * log(2)
    1.3863
    >>> round(float(g_nonsaturating_loss(torch.zeros(4))), 4)
    0.6931
"""

from __future__ import annotations

from typing import Any

from ._torch import import_torch

torch = import_torch()
import torch.nn.functional as F  # noqa: E402


def d_logistic_loss(real_logits: Any, fake_logits: Any) -> Any:
    """Discriminator loss ``softplus(D(fake)) + softplus(-D(real))``, averaged over the batch."""
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def g_nonsaturating_loss(fake_logits: Any) -> Any:
    """Generator loss ``softplus(-D(G(z)))`` (non-saturating), averaged over the batch."""
    return F.softplus(-fake_logits).mean()


def r1_penalty(real_logits: Any, real_images: Any) -> Any:
    """``E ||grad_x D(x)||^2`` over real images (multiply by ``gamma / 2``).

    ``real_images`` must have ``requires_grad=True`` before ``D`` is applied.
    """
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


__all__ = ["d_logistic_loss", "g_nonsaturating_loss", "r1_penalty"]
