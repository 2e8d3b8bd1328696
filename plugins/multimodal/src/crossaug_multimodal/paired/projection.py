"""Project real images into a StyleGAN2's W or W+ latent space.

Optimisation as in the projector of Karras et al. (2020), Sec. 5 and Appendix D:
start from the mean ``w``, add Gaussian noise to the latent whose scale ramps down
quadratically over the first ``noise_ramp_length`` of the steps
(``w_std * initial_noise_factor * max(0, 1 - t / noise_ramp_length)^2``), ramp the
learning rate up (first 5%) and down (cosine, last 25%), optimise the per-layer
noise maps too, penalise their spatial autocorrelation at every scale, and
renormalise them after each step.

The paper measures the distance with LPIPS on VGG16 features. Those weights are
not available offline, so the feature network is pluggable: the default is a
small fixed random convolutional network (:class:`RandomConvFeatures`; random
features are a usable perceptual proxy), any callable ``images -> tensor or list
of tensors`` can be passed, and ``loss="pixel"`` is a plain mean-squared-error
fallback. The default, ``loss="both"``, adds the MSE to the feature distance: with
random features (normalised per position like LPIPS) the pixel term keeps the
absolute intensities right.

Example:
    >>> import torch
    >>> from crossaug_multimodal.stylegan2.networks import Generator, GeneratorConfig
    >>> g = Generator(GeneratorConfig(resolution=8, z_dim=8, w_dim=8, mapping_layers=1,
    ...                               channel_base=32, channel_max=4)).eval()
    >>> target = torch.zeros(1, 3, 8, 8)
    >>> res = project(g, target, steps=3, loss="pixel", w_avg_samples=64)
    >>> tuple(res.ws.shape), len(res.losses)
    ((1, 4, 8), 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crossaug import ConfigError

from ..stylegan2._torch import import_torch

torch = import_torch()
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

LOSSES = ("perceptual", "pixel", "both")


class RandomConvFeatures(nn.Module):
    """A fixed, randomly initialised conv net used as a perceptual feature extractor.

    Each stage is a 3x3 conv (He-scaled random weights drawn from ``seed``), a leaky
    ReLU and 2x average pooling; the outputs of all stages are returned. Grey images
    are repeated to three channels. Parameters never train.

    Args:
        widths: channels of each stage.
        seed: seed of the random weights.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64), seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        chans = [3] + list(widths)
        for i, (a, b) in enumerate(zip(chans[:-1], chans[1:])):
            w = torch.randn(b, a, 3, 3, generator=gen) * math.sqrt(2.0 / (a * 9))
            self.register_buffer(f"w{i}", w)
        self.stages = len(widths)

    def forward(self, x: Any) -> list[Any]:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        feats = []
        for i in range(self.stages):
            x = F.leaky_relu(F.conv2d(x, getattr(self, f"w{i}"), padding=1), 0.2)
            feats.append(x)
            if min(x.shape[-2:]) >= 2:
                x = F.avg_pool2d(x, 2)
        return feats


def _unit(f: Any, eps: float = 1e-8) -> Any:
    """Normalise a feature map to unit length along channels (as LPIPS does)."""
    if f.dim() == 4:
        return f / (f.pow(2).sum(1, keepdim=True).sqrt() + eps)
    return f / (f.pow(2).sum(-1, keepdim=True).sqrt() + eps)


def perceptual_distance(features: Callable[[Any], Any], a: Any, b: Any) -> Any:
    """Per-image distance ``sum_l mean ||unit(f_l(a)) - unit(f_l(b))||^2`` (shape ``[N]``)."""
    fa, fb = features(a), features(b)
    if torch.is_tensor(fa):
        fa, fb = [fa], [fb]
    out = 0.0
    for x, y in zip(fa, fb):
        d = (_unit(x) - _unit(y)).pow(2)
        out = out + d.reshape(d.shape[0], -1).mean(1)
    return out


def pixel_distance(a: Any, b: Any) -> Any:
    """Per-image mean squared error (shape ``[N]``)."""
    return (a - b).pow(2).reshape(a.shape[0], -1).mean(1)


def noise_regularization(noises: Sequence[Any]) -> Any:
    """Per-image sum of squared autocorrelations of each noise map at every scale >= 8 (shape ``[N]``)."""
    total = 0.0
    for v in noises:
        while True:
            total = total + (v * torch.roll(v, 1, dims=3)).mean(dim=(1, 2, 3)).pow(2) \
                + (v * torch.roll(v, 1, dims=2)).mean(dim=(1, 2, 3)).pow(2)
            if v.shape[-1] <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return total


@dataclass
class ProjectionResult:
    """Latents found by :func:`project`.

    Attributes:
        ws: ``[N, num_ws, w_dim]`` (all rows equal in W space).
        space: ``"w"`` or ``"w+"``.
        noise: the optimised noise maps.
        losses: mean loss per step.
        images: reconstructions ``[N, C, R, R]`` in [-1, 1].
    """

    ws: Any
    space: str
    noise: list[Any]
    losses: list[float] = field(default_factory=list)
    images: Any = None

    @property
    def latents(self) -> Any:
        """``[N, w_dim]`` in W space, ``[N, num_ws * w_dim]`` in W+."""
        return self.ws[:, 0] if self.space == "w" else self.ws.reshape(self.ws.shape[0], -1)


def project(generator: Any, target: Any, *, space: str = "w", steps: int = 1000,
            initial_lr: float = 0.1, initial_noise_factor: float = 0.05, noise_ramp_length: float = 0.75,
            lr_rampdown_length: float = 0.25, lr_rampup_length: float = 0.05,
            regularize_noise_weight: float = 1e5, loss: str = "both",
            feature_net: Callable[[Any], Any] | None = None, pixel_weight: float = 1.0,
            w_avg_samples: int = 10000, seed: int = 0) -> ProjectionResult:
    """Find latents whose images match ``target`` (defaults: StyleGAN2's projector).

    Args:
        generator: a :class:`~crossaug_multimodal.stylegan2.networks.Generator`.
        target: images ``[N, C, R, R]`` in [-1, 1] at the generator's resolution.
        space: ``"w"`` (one latent per image) or ``"w+"`` (one per layer).
        steps: optimisation steps (paper 1000).
        initial_lr: peak Adam learning rate (paper 0.1).
        initial_noise_factor: latent noise scale at the start, times ``w_std`` (paper 0.05).
        noise_ramp_length: fraction of steps over which latent noise ramps to 0 (paper 0.75).
        lr_rampdown_length: cosine ramp-down fraction (paper 0.25).
        lr_rampup_length: linear ramp-up fraction (paper 0.05).
        regularize_noise_weight: weight of the noise autocorrelation penalty (paper 1e5).
        loss: ``perceptual`` (feature distance), ``pixel`` (MSE) or ``both`` (default: the
            random default features are normalised per position, as in LPIPS, so they
            ignore absolute intensity; the MSE term anchors it).
        feature_net: callable ``images -> features``; default :class:`RandomConvFeatures`.
        pixel_weight: weight of the MSE term when ``loss="both"``.
        w_avg_samples: latents used to estimate the mean and spread of ``w`` (paper 10000).
        seed: seed of the initial noise maps and the latent noise.
    """
    if space not in ("w", "w+"):
        raise ConfigError(f"space must be 'w' or 'w+', got {space!r}")
    if loss not in LOSSES:
        raise ConfigError(f"loss must be one of {LOSSES}, got {loss!r}")
    cfg = generator.config
    if target.dim() != 4 or tuple(target.shape[1:]) != (cfg.img_channels, cfg.resolution, cfg.resolution):
        raise ConfigError(f"target has shape {tuple(target.shape)}; expected "
                          f"[N, {cfg.img_channels}, {cfg.resolution}, {cfg.resolution}]")
    device = generator.mapping.w_avg.device
    target = target.to(device).float()
    n = target.shape[0]
    feats = feature_net
    if loss != "pixel" and feats is None:
        feats = RandomConvFeatures().to(device)
    gen = torch.Generator().manual_seed(seed)
    w_avg, w_std = generator.mean_w(w_avg_samples, seed=seed)
    rows = 1 if space == "w" else generator.num_ws
    w_opt = w_avg.reshape(1, 1, -1).repeat(n, rows, 1).detach().clone().requires_grad_(True)
    noises = [m.detach().clone().requires_grad_(True)
              for m in generator.synthesis.make_noise(n, "random", gen, device)]
    opt = torch.optim.Adam([w_opt] + noises, lr=initial_lr, betas=(0.9, 0.999))
    was_training = generator.training
    generator.eval()
    params = [p for p in generator.parameters()]
    grads = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    target_feats_net = feats
    losses: list[float] = []
    try:
        for step in range(steps):
            t = step / max(steps, 1)
            w_noise_scale = float(w_std) * initial_noise_factor * max(0.0, 1.0 - t / noise_ramp_length) ** 2
            lr_ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
            lr_ramp = 0.5 - 0.5 * math.cos(lr_ramp * math.pi)
            lr_ramp = lr_ramp * min(1.0, t / lr_rampup_length) if lr_rampup_length > 0 else lr_ramp
            for group in opt.param_groups:
                group["lr"] = initial_lr * lr_ramp
            w_noise = torch.randn(w_opt.shape, generator=gen).to(device) * w_noise_scale
            ws = (w_opt + w_noise).expand(n, generator.num_ws, -1) if space == "w" else w_opt + w_noise
            synth = generator.synthesis(ws, noise=noises)
            if loss == "pixel":
                dist = pixel_distance(synth, target)
            elif loss == "perceptual":
                dist = perceptual_distance(target_feats_net, synth, target)
            else:
                dist = perceptual_distance(target_feats_net, synth, target) \
                    + pixel_weight * pixel_distance(synth, target)
            total = dist + regularize_noise_weight * noise_regularization(noises)
            opt.zero_grad(set_to_none=True)
            total.sum().backward()
            opt.step()
            losses.append(float(dist.detach().mean()))
            with torch.no_grad():
                for v in noises:
                    v -= v.mean(dim=(1, 2, 3), keepdim=True)
                    v /= v.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-8)
        with torch.no_grad():
            final = w_opt.detach().expand(n, generator.num_ws, -1).clone() if space == "w" \
                else w_opt.detach().clone()
            images = generator.synthesis(final, noise=[v.detach() for v in noises])
    finally:
        for p, g in zip(params, grads):
            p.requires_grad_(g)
        generator.train(was_training)
    return ProjectionResult(final, space, [v.detach() for v in noises], losses, images)


__all__ = ["project", "ProjectionResult", "RandomConvFeatures", "perceptual_distance", "pixel_distance",
           "noise_regularization", "LOSSES"]
