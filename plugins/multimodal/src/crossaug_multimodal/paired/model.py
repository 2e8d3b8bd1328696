"""The paired model: a StyleGAN2 generator plus a caption encoder aligned to its latents.

:func:`fit_paired` runs the three training stages of Wang et al. (2022) on a user's
image-caption pairs: (1) train the generator on the images (or take a trained one),
(2) project every image to W or W+, (3) train the LSTM text encoder on
(caption, latent) pairs with the ranking loss. :class:`PairedModel` then maps any
caption to a latent (``center + scale * e / ||e||``, see
:mod:`~crossaug_multimodal.paired.text_encoder`) and to an image, and saves to / loads
from one checkpoint file.

Example:
    >>> import numpy as np
    >>> from crossaug_multimodal.stylegan2.networks import GeneratorConfig
    >>> from crossaug_multimodal.stylegan2.train import TrainConfig
    >>> from crossaug_multimodal.paired.text_encoder import EncoderConfig
    >>> imgs = np.random.default_rng(0).integers(0, 255, (4, 8, 8, 3), dtype=np.uint8)
    >>> m = fit_paired(imgs, ["a red dot", "a blue dot", "red square", "blue square"],
    ...                generator_config=GeneratorConfig(resolution=8, z_dim=8, w_dim=8, mapping_layers=1,
    ...                                                 channel_base=32, channel_max=4),
    ...                train_config=TrainConfig(steps=1, batch_size=4),
    ...                projection={"steps": 2, "loss": "pixel", "w_avg_samples": 64},
    ...                encoder_config=EncoderConfig(embed_dim=4, hidden_dim=4, epochs=1))
    >>> [im.size for im in m.generate(["a red square"], seeds=[0])]
    [(8, 8)]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossaug import ConfigError, MissingResource

from ..stylegan2._torch import import_torch
from ..stylegan2.networks import Generator, GeneratorConfig
from ..stylegan2.train import TrainConfig, load_generator, load_images, tensor_to_images, train_stylegan2
from .projection import project
from .text_encoder import EncoderConfig, LSTMTextEncoder, Vocabulary, encode_texts, train_text_encoder

torch = import_torch()

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "crossaug-paired-stylegan2"


@dataclass
class PairedModel:
    """Generator + aligned text encoder.

    Attributes:
        generator: the StyleGAN2 generator (EMA weights).
        encoder: the :class:`LSTMTextEncoder`.
        vocab: its :class:`Vocabulary`.
        space: ``"w"`` or ``"w+"``, the space the latents were projected to.
        center: mean projected latent (flattened).
        scale: mean distance of projected latents from ``center``.
        history: training curves (``gan`` D/G losses, ``projection``, ``encoder``).
    """

    generator: Any
    encoder: Any
    vocab: Vocabulary
    space: str
    center: Any
    scale: float
    history: dict[str, Any] = field(default_factory=dict)

    def text_to_ws(self, texts: Sequence[str], truncation_psi: float = 1.0) -> Any:
        """Captions to ``[N, num_ws, w_dim]`` latents."""
        e = encode_texts(self.encoder, self.vocab, list(texts))
        flat = self.center[None] + self.scale * e / e.norm(dim=1, keepdim=True).clamp_min(1e-8)
        g = self.generator
        if self.space == "w":
            ws = flat[:, None, :].repeat(1, g.num_ws, 1)
        else:
            ws = flat.reshape(len(texts), g.num_ws, -1)
        if truncation_psi != 1.0:
            ws = g.mapping.w_avg.cpu().lerp(ws, truncation_psi)
        return ws

    def generate(self, texts: Sequence[str], seeds: Sequence[int], truncation_psi: float = 1.0,
                 noise_mode: str = "random") -> list[Any]:
        """One PIL image per caption; caption ``i`` uses ``seeds[i]`` for its noise inputs.

        Images are synthesised one at a time so that each depends only on its caption
        and seed, bit for bit, whatever the batch.
        """
        if len(texts) != len(seeds):
            raise ConfigError(f"{len(texts)} texts but {len(seeds)} seeds")
        ws = self.text_to_ws(texts, truncation_psi)
        dev = self.generator.mapping.w_avg.device
        out = []
        with torch.no_grad():
            for i, seed in enumerate(seeds):
                gen = torch.Generator().manual_seed(int(seed))
                img = self.generator.synthesis(ws[i:i + 1].to(dev), noise_mode=noise_mode, generator=gen)
                out.extend(tensor_to_images(img))
        return out

    # -- checkpoints ------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write one checkpoint file (generator, encoder, vocabulary, latent statistics)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": CHECKPOINT_FORMAT, "version": 1,
            "generator_config": self.generator.config.to_dict(),
            "generator": {k: v.cpu() for k, v in self.generator.state_dict().items()},
            "encoder_config": dict(self.encoder.config),
            "encoder": {k: v.cpu() for k, v in self.encoder.state_dict().items()},
            "vocab": list(self.vocab.itos), "space": self.space,
            "center": self.center.cpu(), "scale": float(self.scale),
            "history": self.history,
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(data, tmp)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> PairedModel:
        """Load a checkpoint written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise MissingResource(f"paired StyleGAN2 checkpoint {path}",
                                  "fit the paired-stylegan2 recipe on image-caption pairs "
                                  "(save_to=...) or call PairedModel.save")
        data = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError(f"{path} is not a crossaug paired StyleGAN2 checkpoint")
        g = Generator(GeneratorConfig(**data["generator_config"]))
        g.load_state_dict(data["generator"])
        enc = LSTMTextEncoder(**data["encoder_config"])
        enc.load_state_dict(data["encoder"])
        vocab = Vocabulary(data["vocab"][2:])
        return cls(g.eval().requires_grad_(False).to(device), enc.eval().requires_grad_(False), vocab,
                   data["space"], data["center"], float(data["scale"]), data.get("history", {}))


def fit_paired(images: Any, captions: Sequence[str], *, generator: Any = None,
               generator_config: GeneratorConfig | None = None, train_config: TrainConfig | None = None,
               projection: dict[str, Any] | None = None, encoder_config: EncoderConfig | None = None,
               space: str = "w", seed: int = 0) -> PairedModel:
    """Train the three stages on aligned ``images`` and ``captions``.

    Args:
        images: one image per caption (anything ``load_images`` accepts).
        captions: the captions.
        generator: a trained generator, or a StyleGAN2 checkpoint path; ``None`` trains
            one with ``generator_config`` / ``train_config``.
        generator_config: network shape when training.
        train_config: GAN training settings.
        projection: keyword arguments of :func:`~crossaug_multimodal.paired.projection.project`.
        encoder_config: :class:`EncoderConfig`.
        space: ``"w"`` or ``"w+"``.
        seed: seed of every stage.
    """
    captions = list(captions)
    history: dict[str, Any] = {}
    if generator is None:
        gcfg = generator_config or GeneratorConfig()
        res = train_stylegan2(load_images(images, gcfg.resolution, gcfg.img_channels), gcfg,
                              train_config, seed=seed)
        generator = res.generator_ema
        history["gan"] = res.history
    elif isinstance(generator, (str, Path)):
        generator = load_generator(generator)
    cfg = generator.config
    target = load_images(images, cfg.resolution, cfg.img_channels)
    if target.shape[0] != len(captions):
        raise ConfigError(f"{target.shape[0]} images but {len(captions)} captions")
    proj = project(generator, target, space=space, seed=seed, **(projection or {}))
    history["projection"] = proj.losses
    history["projection_pixel_mse"] = float((proj.images - target).pow(2).mean())
    enc = train_text_encoder(captions, proj.latents, encoder_config, seed=seed)
    history["encoder"] = enc.history
    log.info("paired model: projection loss %.4f -> %.4f, ranking loss %.4f -> %.4f",
             proj.losses[0] if proj.losses else float("nan"), proj.losses[-1] if proj.losses else float("nan"),
             enc.history[0] if enc.history else float("nan"), enc.history[-1] if enc.history else float("nan"))
    return PairedModel(generator.eval().requires_grad_(False), enc.encoder.requires_grad_(False), enc.vocab,
                       space, enc.center, enc.scale, history)


__all__ = ["PairedModel", "fit_paired", "CHECKPOINT_FORMAT"]
