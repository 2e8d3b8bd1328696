"""Train the compact StyleGAN2 on a user's images; save and load checkpoints.

The loop follows StyleGAN2 (Karras et al., 2020): Adam (lr 0.002, betas (0, 0.99)),
non-saturating logistic loss, R1 on reals applied lazily every 16 discriminator
steps with the learning-rate/beta correction of Sec. 3.1, style mixing with
probability 0.9, and an exponential moving average of the generator weights
(half-life 10k images, ramped up over the first 5% of images seen as in
StyleGAN2-ADA so that short runs get a useful EMA). Path-length regularisation is
not implemented.

Every random draw (weight init, batches, latents, noise) comes from the ``seed``
given, never from global state, so a run on CPU is reproducible.

Command line::

    python -m crossaug_multimodal.stylegan2.train IMAGES_DIR --out g.pt --resolution 32 --steps 2000

Example:
    >>> import numpy as np
    >>> from crossaug_multimodal.stylegan2.networks import GeneratorConfig
    >>> imgs = np.random.default_rng(0).integers(0, 255, (8, 8, 8, 3), dtype=np.uint8)
    >>> res = train_stylegan2(imgs, GeneratorConfig(resolution=8, z_dim=8, w_dim=8, mapping_layers=1,
    ...                       channel_base=32, channel_max=4), TrainConfig(steps=2, batch_size=4))
    >>> len(res.history), res.generator_ema.config.resolution
    (2, 8)
"""

from __future__ import annotations

import argparse
import copy
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from crossaug import BadSample, ConfigError, MissingResource
from crossaug.precision import MixedPrecision, apply_torch_threads

from ._torch import import_torch
from .losses import d_logistic_loss, g_nonsaturating_loss, r1_penalty
from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig, discriminator_config_for

torch = import_torch()

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "crossaug-stylegan2"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass
class TrainConfig:
    """Training hyper-parameters (defaults: StyleGAN2 config F unless noted).

    Args:
        steps: generator updates (one discriminator update each).
        batch_size: images per step.
        lr: Adam learning rate (paper 0.002).
        betas: Adam betas (paper (0, 0.99)).
        r1_gamma: R1 weight; ``None`` uses the StyleGAN2-ADA heuristic ``0.0002 * res^2 / batch``.
        r1_every: lazy R1 interval (paper 16).
        style_mixing_prob: probability of mixing two latents in a batch (paper 0.9).
        ema_kimg: EMA half-life in thousands of images (paper 10).
        ema_rampup: EMA half-life is at most ``ema_rampup * images_seen`` (ADA 0.05; ``None`` off).
        mirror: also train on horizontally flipped images.
        device: torch device (``cpu``, ``cuda``).
        dtype: training precision: ``float32`` (default), or a half dtype (``float16``,
            ``bfloat16``, ``auto``) for autocast forward passes over float32 master weights
            (bfloat16 on CPU, float16 with a gradient scaler on CUDA); R1 stays float32.
        log_every: log losses every this many steps (0: never).
        checkpoint_every: save ``checkpoint`` every this many steps (0: only at the end).
    """

    steps: int = 1000
    batch_size: int = 16
    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    r1_gamma: float | None = None
    r1_every: int = 16
    style_mixing_prob: float = 0.9
    ema_kimg: float = 10.0
    ema_rampup: float | None = 0.05
    mirror: bool = False
    device: str = "cpu"
    dtype: str = "float32"
    log_every: int = 100
    checkpoint_every: int = 0

    def __post_init__(self) -> None:
        if int(self.steps) < 0 or int(self.batch_size) < 1 or int(self.r1_every) < 1:
            raise ConfigError(f"steps >= 0, batch_size >= 1 and r1_every >= 1 required, got "
                              f"{self.steps}, {self.batch_size}, {self.r1_every}")
        if not 0.0 <= float(self.style_mixing_prob) <= 1.0:
            raise ConfigError(f"style_mixing_prob must lie in [0, 1], got {self.style_mixing_prob}")
        self.betas = (float(self.betas[0]), float(self.betas[1]))

    def gamma_for(self, resolution: int) -> float:
        if self.r1_gamma is not None:
            return float(self.r1_gamma)
        return 0.0002 * resolution ** 2 / self.batch_size


@dataclass
class TrainResult:
    """What :func:`train_stylegan2` returns."""

    generator: Any
    generator_ema: Any
    discriminator: Any
    history: list[dict[str, float]] = field(default_factory=list)
    step: int = 0


# -- images -------------------------------------------------------------------------
def _to_pil(item: Any, index: int) -> Any:
    from PIL import Image

    if isinstance(item, Image.Image):
        return item
    if isinstance(item, (str, Path)):
        try:
            img = Image.open(item)
            img.load()
            return img
        except Exception as exc:
            raise BadSample(f"cannot read image: {exc}", sample_id=str(index), field="image",
                            source=str(item)) from None
    arr = np.asarray(item)
    if arr.dtype.kind == "f":
        arr = (np.clip(arr, 0.0, 1.0) * 255).round().astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3):
        raise BadSample(f"image array has shape {arr.shape}; expected HxW or HxWxC",
                        sample_id=str(index), field="image")
    return Image.fromarray(arr.astype(np.uint8))


def image_to_tensor(img: Any, resolution: int, channels: int) -> Any:
    """A PIL image as a ``[C, R, R]`` float tensor in [-1, 1] (centre square crop, Lanczos resize)."""
    from PIL import Image

    img = img.convert("RGB" if channels == 3 else "L")
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    img = img.crop((left, top, left + side, top + side))
    if side != resolution:
        img = img.resize((resolution, resolution), Image.LANCZOS)
    arr = np.asarray(img, dtype=np.float32) / 127.5 - 1.0
    if arr.ndim == 2:
        arr = arr[None]
    else:
        arr = arr.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(arr))


def tensor_to_images(x: Any) -> list[Any]:
    """``[N, C, H, W]`` in [-1, 1] -> PIL images (``RGB`` or ``L``)."""
    from PIL import Image

    arr = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    out = []
    for a in arr:
        out.append(Image.fromarray(a[0], mode="L") if a.shape[0] == 1
                   else Image.fromarray(a.transpose(1, 2, 0), mode="RGB"))
    return out


def load_images(source: Any, resolution: int, channels: int = 3) -> Any:
    """Images as one ``[N, C, R, R]`` tensor in [-1, 1].

    Args:
        source: a folder (searched recursively), a list of paths / PIL images / arrays,
            or an array ``[N, H, W]`` / ``[N, H, W, C]`` (uint8, or float in [0, 1]).
        resolution: output side length.
        channels: 3 or 1.
    """
    items: Iterable[Any]
    if isinstance(source, (str, Path)):
        root = Path(source)
        if not root.exists():
            raise MissingResource(f"image folder {root}", "pass an existing folder of images")
        items = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES) \
            if root.is_dir() else [root]
    elif isinstance(source, np.ndarray):
        items = list(source)
    else:
        items = list(source)
    tensors = [image_to_tensor(_to_pil(item, i), resolution, channels) for i, item in enumerate(items)]
    if not tensors:
        raise MissingResource(f"training images in {source!r}" if isinstance(source, (str, Path))
                              else "training images", "give at least one image")
    return torch.stack(tensors)


# -- checkpoints ----------------------------------------------------------------------
def _generator_from(cfg: dict[str, Any], state: dict[str, Any]) -> Any:
    g = Generator(GeneratorConfig(**cfg))
    g.load_state_dict(state)
    return g.eval().requires_grad_(False)


def save_checkpoint(path: str | Path, result: TrainResult, train_config: TrainConfig | None = None,
                    optimizers: Sequence[Any] = (), rng: Any = None) -> Path:
    """Write generator, EMA generator, discriminator (optimizer and RNG states) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "format": CHECKPOINT_FORMAT, "version": 1, "step": int(result.step),
        "generator_config": result.generator_ema.config.to_dict(),
        "discriminator_config": result.discriminator.config.to_dict(),
        "train_config": asdict(train_config) if train_config is not None else {},
        "G": result.generator.state_dict(), "G_ema": result.generator_ema.state_dict(),
        "D": result.discriminator.state_dict(),
        "optimizers": [o.state_dict() for o in optimizers],
        "rng_state": rng.get_state() if rng is not None else None,
        "history": result.history,
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a StyleGAN2 checkpoint dict (tensors only, ``weights_only``)."""
    path = Path(path)
    if not path.is_file():
        raise MissingResource(f"StyleGAN2 checkpoint {path}",
                              "train one with `python -m crossaug_multimodal.stylegan2.train`")
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not a crossaug StyleGAN2 checkpoint")
    return data


def load_generator(path: str | Path, ema: bool = True, device: str = "cpu") -> Any:
    """The (EMA) generator of a checkpoint, in eval mode."""
    data = read_checkpoint(path)
    return _generator_from(data["generator_config"], data["G_ema" if ema else "G"]).to(device)


def _init_modules(gcfg: GeneratorConfig, dcfg: DiscriminatorConfig, seed: int) -> tuple[Any, Any]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        g = Generator(gcfg)
        d = Discriminator(dcfg)
    return g, d


# -- training -------------------------------------------------------------------------
def train_stylegan2(images: Any, generator_config: GeneratorConfig | None = None,
                    config: TrainConfig | None = None, *, seed: int = 0,
                    checkpoint: str | Path | None = None, resume: str | Path | None = None,
                    callback: Callable[[int, dict[str, float]], None] | None = None) -> TrainResult:
    """Train a StyleGAN2 generator on ``images``.

    Args:
        images: anything :func:`load_images` accepts, or a ready ``[N, C, R, R]`` tensor in [-1, 1].
        generator_config: network shape (default :class:`GeneratorConfig`); ignored on resume.
        config: :class:`TrainConfig` (default settings when ``None``).
        seed: seed of every random draw.
        checkpoint: where to save (at the end, and every ``checkpoint_every`` steps).
        resume: a checkpoint to continue from (networks, optimizers, RNG state and step
            counter: N steps then N more from the checkpoint equal 2N steps in one go).
        callback: called as ``callback(step, losses)`` after every step.
    Returns:
        A :class:`TrainResult`; ``generator_ema`` is the model to sample from.
    """
    config = config or TrainConfig()
    state = read_checkpoint(resume) if resume is not None else None
    if state is not None:
        gcfg = GeneratorConfig(**state["generator_config"])
        dcfg = DiscriminatorConfig(**state["discriminator_config"])
    else:
        gcfg = generator_config or GeneratorConfig()
        dcfg = discriminator_config_for(gcfg)
    device = torch.device(config.device)
    if torch.is_tensor(images):
        data = images.float()
        if tuple(data.shape[1:]) != (gcfg.img_channels, gcfg.resolution, gcfg.resolution):
            raise ConfigError(f"image tensor has shape {tuple(data.shape)}; expected "
                              f"[N, {gcfg.img_channels}, {gcfg.resolution}, {gcfg.resolution}]")
    else:
        data = load_images(images, gcfg.resolution, gcfg.img_channels)
    if config.mirror:
        data = torch.cat([data, data.flip(3)])
    data = data.to(device)
    g, d = _init_modules(gcfg, dcfg, seed)
    g, d = g.to(device), d.to(device)
    g_ema = copy.deepcopy(g).eval().requires_grad_(False)
    c = config.r1_every / (config.r1_every + 1)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=config.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr * c, betas=(config.betas[0] ** c, config.betas[1] ** c))
    history: list[dict[str, float]] = []
    start = 0
    if state is not None:
        g.load_state_dict(state["G"])
        g_ema.load_state_dict(state["G_ema"])
        d.load_state_dict(state["D"])
        if len(state.get("optimizers", [])) == 2:
            opt_g.load_state_dict(state["optimizers"][0])
            opt_d.load_state_dict(state["optimizers"][1])
        start = int(state["step"])
        history = list(state.get("history", []))
    gen = torch.Generator().manual_seed(int(seed))
    if state is not None and state.get("rng_state") is not None:
        gen.set_state(state["rng_state"])
    gamma = config.gamma_for(gcfg.resolution)
    n, bs = data.shape[0], config.batch_size
    result = TrainResult(g, g_ema, d, history, start)

    def latents() -> Any:
        return torch.randn(bs, gcfg.z_dim, generator=gen).to(device)

    def fake_batch() -> Any:
        z = latents()
        ws = g.map(z, update_w_avg=True)
        if float(torch.rand((), generator=gen)) < config.style_mixing_prob:
            cut = int(torch.randint(1, gcfg.num_ws, (), generator=gen))
            ws = g.mix(ws, g.map(latents()), [cut] * bs)
        return g.synthesis(ws, generator=gen)

    mp_d = MixedPrecision(config.dtype, str(device), what="StyleGAN2 discriminator")
    mp_g = MixedPrecision(config.dtype, str(device), what="StyleGAN2 generator")
    if str(device).startswith("cpu"):
        apply_torch_threads()  # cores // workers: torch's default oversubscribes a busy machine
    for step in range(start, start + config.steps):
        real = data[torch.randint(0, n, (bs,), generator=gen).to(device)]
        # discriminator: logistic loss
        g.requires_grad_(False)
        d.requires_grad_(True)
        with torch.no_grad(), mp_g.autocast():
            fake = fake_batch()
        with mp_d.autocast():
            loss_d = d_logistic_loss(d(real).float(), d(fake).float())
        opt_d.zero_grad(set_to_none=True)
        mp_d.backward(loss_d, step)
        mp_d.step(opt_d)
        r1 = float("nan")
        if step % config.r1_every == 0 and gamma > 0:  # float32: a gradient penalty under autocast is unstable
            real_r = real.detach().requires_grad_(True)
            pen = r1_penalty(d(real_r), real_r)
            mp_d.check(pen, step)
            opt_d.zero_grad(set_to_none=True)
            (pen * (gamma / 2) * config.r1_every).backward()
            opt_d.step()
            r1 = float(pen.detach())
        # generator: non-saturating loss
        g.requires_grad_(True)
        d.requires_grad_(False)
        with mp_g.autocast():
            loss_g = g_nonsaturating_loss(d(fake_batch()).float())
        opt_g.zero_grad(set_to_none=True)
        mp_g.backward(loss_g, step)
        mp_g.step(opt_g)
        # EMA of the generator weights
        seen = (step + 1) * bs
        half_life = config.ema_kimg * 1000
        if config.ema_rampup is not None:
            half_life = min(half_life, seen * config.ema_rampup)
        beta = 0.5 ** (bs / max(half_life, 1e-8))
        with torch.no_grad():
            for p_ema, p in zip(g_ema.parameters(), g.parameters()):
                p_ema.copy_(p.detach().lerp(p_ema, beta))
            for b_ema, b in zip(g_ema.buffers(), g.buffers()):
                b_ema.copy_(b)
        losses = {"step": step + 1, "d_loss": float(loss_d.detach()), "g_loss": float(loss_g.detach()), "r1": r1}
        history.append(losses)
        result.step = step + 1
        if callback is not None:
            callback(step + 1, losses)
        if config.log_every and (step + 1) % config.log_every == 0:
            log.info("step %d: D %.4f G %.4f", step + 1, losses["d_loss"], losses["g_loss"])
        if checkpoint is not None and config.checkpoint_every and (step + 1) % config.checkpoint_every == 0:
            save_checkpoint(checkpoint, result, config, (opt_g, opt_d), gen)
    g.requires_grad_(True)
    d.requires_grad_(True)
    if checkpoint is not None:
        save_checkpoint(checkpoint, result, config, (opt_g, opt_d), gen)
    return result


def generate(generator: Any, n: int, seed: int = 0, truncation_psi: float = 1.0,
             noise_mode: str = "random") -> Any:
    """``n`` images (tensor in [-1, 1]) from seeded latents, without gradients."""
    gen = torch.Generator().manual_seed(int(seed))
    dev = next(generator.parameters()).device
    z = torch.randn(n, generator.config.z_dim, generator=gen).to(dev)
    with torch.no_grad():
        return generator(z, truncation_psi=truncation_psi, noise_mode=noise_mode, generator=gen)


def save_grid(images: Any, path: str | Path, ncol: int = 8) -> Path:
    """Save a ``[N, C, H, W]`` tensor in [-1, 1] as one PNG grid."""
    from PIL import Image

    pics = tensor_to_images(images)
    w, h = pics[0].size
    rows = math.ceil(len(pics) / ncol)
    grid = Image.new(pics[0].mode, (w * min(ncol, len(pics)), h * rows))
    for i, p in enumerate(pics):
        grid.paste(p, ((i % ncol) * w, (i // ncol) * h))
    grid.save(path)
    return Path(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: train on a folder of images and write a checkpoint."""
    p = argparse.ArgumentParser(prog="python -m crossaug_multimodal.stylegan2.train",
                                description="Train the compact StyleGAN2 on a folder of images.")
    p.add_argument("images", help="folder of images (searched recursively)")
    p.add_argument("--out", required=True, help="checkpoint file to write")
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--z-dim", type=int, default=128)
    p.add_argument("--w-dim", type=int, default=128)
    p.add_argument("--mapping-layers", type=int, default=4)
    p.add_argument("--channel-base", type=int, default=4096)
    p.add_argument("--channel-max", type=int, default=128)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--r1-gamma", type=float, default=None)
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--resume", default=None, help="checkpoint to continue from")
    p.add_argument("--samples", default=None, help="write a PNG grid of 16 samples here at the end")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    gcfg = GeneratorConfig(resolution=a.resolution, img_channels=a.channels, z_dim=a.z_dim, w_dim=a.w_dim,
                           mapping_layers=a.mapping_layers, channel_base=a.channel_base,
                           channel_max=a.channel_max)
    tcfg = TrainConfig(steps=a.steps, batch_size=a.batch_size, lr=a.lr, r1_gamma=a.r1_gamma,
                       mirror=a.mirror, device=a.device, checkpoint_every=a.checkpoint_every)
    res = train_stylegan2(a.images, gcfg, tcfg, seed=a.seed, checkpoint=a.out, resume=a.resume)
    if a.samples:
        save_grid(generate(res.generator_ema, 16, seed=a.seed), a.samples)
    print(f"trained {res.step} steps; checkpoint {a.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["TrainConfig", "TrainResult", "train_stylegan2", "load_images", "image_to_tensor",
           "tensor_to_images", "save_checkpoint", "read_checkpoint", "load_generator", "generate",
           "save_grid", "main"]
