"""StyleGAN2 networks: mapping, modulated convolutions, noise, style mixing, skip generator.

Our own compact implementation of the generator and discriminator of Karras et al.
(2020), "Analyzing and Improving the Image Quality of StyleGAN" (config E/F):

* a mapping network ``z -> w`` (pixel-normalised input, equalised-learning-rate MLP
  with learning-rate multiplier 0.01, a tracked ``w_avg`` for truncation);
* a synthesis network starting from a learned 4x4 constant, with modulated and
  demodulated 3x3 convolutions (Sec. 2.2, eq. 1-3), a learned per-layer scale for
  single-channel noise inputs, and the skip architecture: every resolution has a
  1x1 modulated ``toRGB`` whose output is upsampled and summed (Fig. 7b);
* style mixing: a second latent takes over the layers after a crossover index;
* a residual discriminator with a minibatch standard-deviation layer (Fig. 7c).

Differences from the paper, kept small on purpose so the code runs anywhere torch
runs (CPU included, no custom CUDA ops): upsampling and downsampling are bilinear
interpolation / average pooling instead of transposed convolutions with a [1,3,3,1]
FIR filter, and the leaky ReLU is a plain op scaled by sqrt(2).

Resolutions are powers of two from 8 up; channel widths are
``min(channel_max, channel_base // resolution)`` per layer, so a 16x16 model with a
few thousand parameters trains on a CPU in seconds and a 256x256 one needs a GPU.

Example:
    >>> import torch
    >>> g = Generator(GeneratorConfig(resolution=8, z_dim=8, w_dim=8, mapping_layers=2,
    ...                               channel_base=64, channel_max=8))
    >>> img = g(torch.randn(2, 8, generator=torch.Generator().manual_seed(0)),
    ...         noise_mode="const")
    >>> tuple(img.shape)
    (2, 3, 8, 8)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ._torch import import_torch

torch = import_torch()
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

SQRT2 = math.sqrt(2.0)


def lrelu(x: Any) -> Any:
    """Leaky ReLU (slope 0.2) scaled by sqrt(2) to keep unit variance (StyleGAN's ``lrelu``)."""
    return F.leaky_relu(x, 0.2) * SQRT2


@dataclass
class GeneratorConfig:
    """Shape of a :class:`Generator`.

    Args:
        resolution: output side length (power of two, >= 8).
        img_channels: 3 (RGB) or 1 (grey).
        z_dim: input latent size (paper 512).
        w_dim: intermediate latent size (paper 512).
        mapping_layers: depth of the mapping MLP (paper 8).
        mapping_lr_mul: learning-rate multiplier of the mapping layers (paper 0.01).
        channel_base: channels at a resolution are ``channel_base // resolution`` ...
        channel_max: ... capped at this (paper 32768 and 512 for 1024x1024).
        w_avg_beta: decay of the tracked mean ``w`` used for truncation (paper 0.995).
    """

    resolution: int = 32
    img_channels: int = 3
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 4
    mapping_lr_mul: float = 0.01
    channel_base: int = 4096
    channel_max: int = 128
    w_avg_beta: float = 0.995

    def __post_init__(self) -> None:
        from crossaug import ConfigError

        r = int(self.resolution)
        if r < 8 or r & (r - 1):
            raise ConfigError(f"StyleGAN2 resolution must be a power of two >= 8, got {self.resolution}")
        if self.img_channels not in (1, 3):
            raise ConfigError(f"img_channels must be 1 or 3, got {self.img_channels}")
        for name in ("z_dim", "w_dim", "mapping_layers", "channel_base", "channel_max"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)}")

    def channels(self, res: int) -> int:
        return max(1, min(self.channel_max, self.channel_base // res))

    @property
    def log2_res(self) -> int:
        return int(math.log2(self.resolution))

    @property
    def num_ws(self) -> int:
        """Number of style inputs (one per modulated layer plus the last toRGB)."""
        return self.log2_res * 2 - 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DiscriminatorConfig:
    """Shape of a :class:`Discriminator` (resolution and channels mirror the generator)."""

    resolution: int = 32
    img_channels: int = 3
    channel_base: int = 4096
    channel_max: int = 128
    mbstd_group: int = 4
    mbstd_channels: int = 1

    def channels(self, res: int) -> int:
        return max(1, min(self.channel_max, self.channel_base // res))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- equalised-learning-rate layers ------------------------------------------------
class EqualLinear(nn.Module):
    """Linear layer with runtime weight scaling 1/sqrt(fan_in) (equalised learning rate)."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: Any) -> Any:
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return lrelu(out) if self.activation else out


class EqualConv2d(nn.Module):
    """Convolution with equalised learning rate (used by the discriminator)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, bias: bool = True,
                 activation: bool = False, down: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_ch)) if bias else None
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.padding = kernel // 2
        self.activation = activation
        self.down = down

    def forward(self, x: Any) -> Any:
        out = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
        if self.down:
            out = F.avg_pool2d(out, 2)
        return lrelu(out) if self.activation else out


# -- mapping ------------------------------------------------------------------------
def pixel_norm(x: Any, eps: float = 1e-8) -> Any:
    """Normalise each latent to unit root-mean-square (StyleGAN's input normalisation)."""
    return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + eps)


class MappingNetwork(nn.Module):
    """``z -> w``: pixel norm, then ``layers`` equalised linear layers with lr multiplier."""

    def __init__(self, z_dim: int, w_dim: int, layers: int, lr_mul: float = 0.01,
                 w_avg_beta: float = 0.995) -> None:
        super().__init__()
        dims = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(*[EqualLinear(a, b, lr_mul=lr_mul, activation=True)
                                   for a, b in zip(dims[:-1], dims[1:])])
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: Any, update_w_avg: bool = False) -> Any:
        w = self.net(pixel_norm(z))
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.detach().float().mean(0).lerp(self.w_avg, self.w_avg_beta))  # float32 under autocast
        return w


# -- synthesis ----------------------------------------------------------------------
def modulated_conv2d(x: Any, weight: Any, styles: Any, demodulate: bool = True,
                     eps: float = 1e-8) -> Any:
    """Modulated (and demodulated) convolution of StyleGAN2 (Sec. 2.2, eq. 1-3).

    The weight is scaled per input channel by each sample's style (eq. 1), then each
    output channel is divided by its L2 norm (eq. 3), and the batch runs as one grouped
    convolution.

    Args:
        x: input ``[N, I, H, W]``.
        weight: ``[O, I, k, k]`` (already scaled for equalised learning rate).
        styles: ``[N, I]`` per-sample input-channel scales.
        demodulate: apply eq. 3.
    Returns:
        ``[N, O, H, W]`` ('same' padding).
    """
    n, in_ch, h, w = x.shape
    out_ch, _, k, _ = weight.shape
    wts = weight.unsqueeze(0) * styles.reshape(n, 1, in_ch, 1, 1)
    if demodulate:
        d = torch.rsqrt(wts.pow(2).sum(dim=(2, 3, 4)) + eps)
        wts = wts * d.reshape(n, out_ch, 1, 1, 1)
    out = F.conv2d(x.reshape(1, n * in_ch, h, w), wts.reshape(n * out_ch, in_ch, k, k),
                   padding=k // 2, groups=n)
    return out.reshape(n, out_ch, h, w)


class ModulatedConv2d(nn.Module):
    """A modulated convolution with its own affine style layer (``A`` in Fig. 2)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, w_dim: int, demodulate: bool = True,
                 upsample: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_ch, in_ch, kernel, kernel))
        self.scale = 1.0 / math.sqrt(in_ch * kernel * kernel)
        self.affine = EqualLinear(w_dim, in_ch, bias_init=1.0)
        self.demodulate = demodulate
        self.upsample = upsample

    def forward(self, x: Any, w: Any) -> Any:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return modulated_conv2d(x, self.weight * self.scale, self.affine(w), self.demodulate)


class NoiseInjection(nn.Module):
    """Adds single-channel noise times a learned scalar (``B`` in Fig. 2, init 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))

    def forward(self, x: Any, noise: Any) -> Any:
        return x + self.strength * noise


class StyledConv(nn.Module):
    """Modulated conv, noise, bias and activation: one StyleGAN2 layer."""

    def __init__(self, in_ch: int, out_ch: int, w_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, 3, w_dim, demodulate=True, upsample=upsample)
        self.noise = NoiseInjection()
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x: Any, w: Any, noise: Any) -> Any:
        out = self.noise(self.conv(x, w), noise)
        return lrelu(out + self.bias.reshape(1, -1, 1, 1))


class ToRGB(nn.Module):
    """1x1 modulated conv without demodulation to image channels; adds the upsampled skip."""

    def __init__(self, in_ch: int, img_channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, img_channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(img_channels))

    def forward(self, x: Any, w: Any, skip: Any = None) -> Any:
        out = self.conv(x, w) + self.bias.reshape(1, -1, 1, 1)
        if skip is not None:
            out = out + F.interpolate(skip, scale_factor=2, mode="bilinear", align_corners=False)
        return out


class SynthesisNetwork(nn.Module):
    """``ws [N, num_ws, w_dim] -> image [N, C, R, R]`` in roughly [-1, 1]."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c4 = cfg.channels(4)
        self.const = nn.Parameter(torch.randn(1, c4, 4, 4))
        self.conv1 = StyledConv(c4, c4, cfg.w_dim)
        self.rgb1 = ToRGB(c4, cfg.img_channels, cfg.w_dim)
        self.ups = nn.ModuleList()
        self.convs = nn.ModuleList()
        self.rgbs = nn.ModuleList()
        in_ch = c4
        for log2 in range(3, cfg.log2_res + 1):
            out_ch = cfg.channels(2 ** log2)
            self.ups.append(StyledConv(in_ch, out_ch, cfg.w_dim, upsample=True))
            self.convs.append(StyledConv(out_ch, out_ch, cfg.w_dim))
            self.rgbs.append(ToRGB(out_ch, cfg.img_channels, cfg.w_dim))
            in_ch = out_ch
        # fixed noise maps for noise_mode="const" (two per resolution after 4x4, one at 4x4)
        for i, res in enumerate(self.noise_resolutions()):
            self.register_buffer(f"noise_const_{i}", torch.randn(1, 1, res, res,
                                                                 generator=torch.Generator().manual_seed(i)))

    def noise_resolutions(self) -> list[int]:
        """Side length of each noise input, in layer order."""
        out = [4]
        for log2 in range(3, self.cfg.log2_res + 1):
            out += [2 ** log2, 2 ** log2]
        return out

    def make_noise(self, n: int, mode: str = "random", generator: Any = None,
                   device: Any = None) -> list[Any]:
        """Noise maps for ``n`` images: ``random`` (from ``generator``), ``const`` or ``none``."""
        device = device or self.const.device
        out = []
        for i, res in enumerate(self.noise_resolutions()):
            if mode == "random":
                out.append(torch.randn(n, 1, res, res, generator=generator, device="cpu").to(device))
            elif mode == "const":
                out.append(getattr(self, f"noise_const_{i}").expand(n, 1, res, res))
            elif mode == "none":
                out.append(torch.zeros(n, 1, res, res, device=device))
            else:
                from crossaug import ConfigError

                raise ConfigError(f"noise_mode must be random, const or none, got {mode!r}")
        return out

    def forward(self, ws: Any, noise: Sequence[Any] | None = None, noise_mode: str = "random",
                generator: Any = None) -> Any:
        n = ws.shape[0]
        if noise is None:
            noise = self.make_noise(n, noise_mode, generator, ws.device)
        x = self.conv1(self.const.expand(n, -1, -1, -1), ws[:, 0], noise[0])
        img = self.rgb1(x, ws[:, 1])
        for i, (up, conv, rgb) in enumerate(zip(self.ups, self.convs, self.rgbs)):
            x = up(x, ws[:, 1 + 2 * i], noise[1 + 2 * i])
            x = conv(x, ws[:, 2 + 2 * i], noise[2 + 2 * i])
            img = rgb(x, ws[:, 3 + 2 * i], img)
        return img


class Generator(nn.Module):
    """Mapping plus synthesis, with truncation and style mixing.

    Args:
        config: a :class:`GeneratorConfig`.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        cfg = self.config
        self.mapping = MappingNetwork(cfg.z_dim, cfg.w_dim, cfg.mapping_layers, cfg.mapping_lr_mul,
                                      cfg.w_avg_beta)
        self.synthesis = SynthesisNetwork(cfg)

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    def map(self, z: Any, truncation_psi: float = 1.0, update_w_avg: bool = False) -> Any:
        """``z [N, z_dim] -> ws [N, num_ws, w_dim]`` with optional truncation toward ``w_avg``."""
        w = self.mapping(z, update_w_avg=update_w_avg)
        if truncation_psi != 1.0:
            w = self.mapping.w_avg.lerp(w, truncation_psi)
        return w.unsqueeze(1).repeat(1, self.num_ws, 1)

    def mix(self, ws: Any, ws2: Any, crossover: Sequence[int] | Any) -> Any:
        """Style mixing: layers ``>= crossover[i]`` of sample ``i`` take their style from ``ws2``."""
        cut = torch.as_tensor(crossover, device=ws.device).reshape(-1, 1, 1)
        layer = torch.arange(self.num_ws, device=ws.device).reshape(1, -1, 1)
        return torch.where(layer < cut, ws, ws2)

    def forward(self, z: Any, z2: Any = None, crossover: Any = None, truncation_psi: float = 1.0,
                noise_mode: str = "random", generator: Any = None) -> Any:
        """Generate images from latents ``z`` (and a second batch ``z2`` for style mixing)."""
        ws = self.map(z, truncation_psi)
        if z2 is not None:
            ws = self.mix(ws, self.map(z2, truncation_psi), crossover)
        return self.synthesis(ws, noise_mode=noise_mode, generator=generator)

    def mean_w(self, n: int = 4096, seed: int = 0) -> tuple[Any, Any]:
        """Mean and scalar std of ``w`` over ``n`` random latents (for projection)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            z = torch.randn(n, self.config.z_dim, generator=g).to(self.mapping.w_avg.device)
            w = self.mapping(z)
        mean = w.mean(0)
        std = ((w - mean).pow(2).sum(1).mean()).sqrt()
        return mean, std


# -- discriminator ------------------------------------------------------------------
class DiscriminatorBlock(nn.Module):
    """Two 3x3 convs (the second downsamples) plus a 1x1 downsampling skip, summed / sqrt(2)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv1 = EqualConv2d(in_ch, in_ch, 3, activation=True)
        self.conv2 = EqualConv2d(in_ch, out_ch, 3, activation=True, down=True)
        self.skip = EqualConv2d(in_ch, out_ch, 1, bias=False, down=True)

    def forward(self, x: Any) -> Any:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / SQRT2


def minibatch_stddev(x: Any, group: int = 4, channels: int = 1) -> Any:
    """Append the std over groups of samples as extra feature maps (StyleGAN's mbstd layer)."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, -1, channels, c // channels, h, w)
    y = (y - y.mean(0)).pow(2).mean(0).add(1e-8).sqrt()
    y = y.mean(dim=(2, 3, 4)).reshape(-1, channels, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    """Residual discriminator: fromRGB, blocks down to 4x4, mbstd, conv, two dense layers."""

    def __init__(self, config: DiscriminatorConfig | None = None) -> None:
        super().__init__()
        self.config = config or DiscriminatorConfig()
        cfg = self.config
        log2 = int(math.log2(cfg.resolution))
        self.from_rgb = EqualConv2d(cfg.img_channels, cfg.channels(cfg.resolution), 1, activation=True)
        self.blocks = nn.Sequential(*[DiscriminatorBlock(cfg.channels(2 ** r), cfg.channels(2 ** (r - 1)))
                                      for r in range(log2, 2, -1)])
        c4 = cfg.channels(4)
        self.conv = EqualConv2d(c4 + cfg.mbstd_channels, c4, 3, activation=True)
        self.fc = EqualLinear(c4 * 16, c4, activation=True)
        self.out = EqualLinear(c4, 1)

    def forward(self, img: Any) -> Any:
        x = self.blocks(self.from_rgb(img))
        x = minibatch_stddev(x, self.config.mbstd_group, self.config.mbstd_channels)
        x = self.conv(x)
        return self.out(self.fc(x.flatten(1))).squeeze(1)


def discriminator_config_for(g: GeneratorConfig) -> DiscriminatorConfig:
    """A discriminator mirroring a generator's resolution and widths."""
    return DiscriminatorConfig(resolution=g.resolution, img_channels=g.img_channels,
                               channel_base=g.channel_base, channel_max=g.channel_max)


def count_parameters(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["GeneratorConfig", "DiscriminatorConfig", "Generator", "Discriminator", "MappingNetwork",
           "SynthesisNetwork", "ModulatedConv2d", "StyledConv", "ToRGB", "NoiseInjection",
           "EqualLinear", "EqualConv2d", "modulated_conv2d", "pixel_norm", "minibatch_stddev",
           "discriminator_config_for", "count_parameters", "lrelu"]
