"""Recipe ``lemda``: augment precomputed multimodal feature vectors with a trained LeMDA network.

LeMDA (Liu et al., 2022) augments in feature space, so its outputs are feature
vectors, not media. Samples carry their precomputed per-modality features in
``meta`` (in a JSONL dataset, any column that is not a modality field lands in
``meta``: ``{"id": "a", "text": "...", "f_text": [...], "f_image": [...], "label": 1}``).
The recipe concatenates ``meta[k]`` for ``k in feature_keys``, runs the
augmentation network with per-candidate seeded noise, splits the result back and
writes it under the same keys; the media fields and the label are carried over
unchanged (the lineage step says that the features were augmented).

The network comes from ``checkpoint=`` (:meth:`LeMDATrainer.save_augmenter`) or from
:meth:`fit`, which trains it jointly with a small MLP task network on the samples'
features and labels (the recipe ``requires_fit`` until then). ``fit`` trains for at
least ``min_steps`` optimiser steps (``epochs=None``): on a small dataset a fixed
epoch count gives a handful of steps and an untrained VAE whose outputs are noise
(20 epochs on 60 digit vectors, 20 steps, kept 13% of the labels; 200 steps keep them). When
no training sample ever reaches ``confidence_threshold``, the consistency term was
never active: ``fit`` logs a warning and records ``consistency_active: False`` in
:attr:`LeMDARecipe.fit_summary` and in every output's lineage params.

Example:
    >>> LeMDARecipe(feature_keys=["f_text", "f_image"]).requires_fit
    True
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug.recipe import Recipe

log = logging.getLogger(__name__)


class LeMDARecipe(Recipe):
    """Feature-space augmentation of samples' stored feature vectors with LeMDA.

    Args:
        checkpoint: augmenter checkpoint; ``None`` means :meth:`fit` trains one.
        n: augmented copies per input.
        feature_keys: ``meta`` keys of the per-modality feature vectors, in order.
        noise_scale: scale of the VAE sampling noise at augmentation time (1.0 as trained).
        save_to: where :meth:`fit` writes the checkpoint (optional).
        epochs: passes over the data in :meth:`fit`; ``None`` (default): enough for ``min_steps``.
        min_steps: optimiser steps :meth:`fit` makes at least when ``epochs`` is ``None`` (ours).
        batch_size: fit batch size.
        task_hidden: hidden sizes of the MLP task network used by :meth:`fit`.
        hidden_dims: hidden sizes of the augmentation MLP-VAE.
        latent_dim: its latent size (default half the feature size).
        lr: task network learning rate; ``aug_lr`` the augmentation network's.
        adversarial_weight: gradient-reversal scale.
        consistency_weight: weight of the confident-sample consistency KL.
        vae_weight: weight of the VAE loss.
        kl_weight: weight of the KL term inside the VAE loss.
        confidence_threshold: confidence needed for the consistency term.
        seed: seed of fitting.
        device: torch device.
    """

    name: ClassVar[str] = "lemda"

    def __init__(self, checkpoint: str | None = None, n: int = 1, feature_keys: Sequence[str] = ("features",),
                 noise_scale: float = 1.0, save_to: str | None = None, epochs: int | None = None,
                 batch_size: int = 64, min_steps: int = 200,
                 task_hidden: Sequence[int] = (128,), hidden_dims: Sequence[int] = (256,),
                 latent_dim: int | None = None, lr: float = 1e-3, aug_lr: float = 1e-3,
                 adversarial_weight: float = 1.0, consistency_weight: float = 10.0, vae_weight: float = 1.0,
                 kl_weight: float = 0.1, confidence_threshold: float = 0.5, seed: int = 0, device: str = "cpu") -> None:
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        if isinstance(feature_keys, str) or not feature_keys:
            raise ConfigError(f"{self.name}: feature_keys must be a non-empty list of meta keys, got {feature_keys!r}")
        if float(noise_scale) < 0:
            raise ConfigError(f"{self.name}: noise_scale must be >= 0, got {noise_scale}")
        if (epochs is not None and int(epochs) < 1) or int(batch_size) < 1 or int(min_steps) < 1:
            raise ConfigError(f"{self.name}: epochs, batch_size and min_steps must be positive")
        self.checkpoint = str(checkpoint) if checkpoint is not None else None
        self.n = n
        self.feature_keys = [str(k) for k in feature_keys]
        self.noise_scale = float(noise_scale)
        self.save_to = str(save_to) if save_to is not None else None
        self.epochs = None if epochs is None else int(epochs)
        self.min_steps = int(min_steps)
        self.batch_size = int(batch_size)
        self.task_hidden = [int(h) for h in task_hidden]
        self.hidden_dims = [int(h) for h in hidden_dims]
        self.latent_dim = latent_dim
        self.lr = float(lr)
        self.aug_lr = float(aug_lr)
        self.adversarial_weight = float(adversarial_weight)
        self.consistency_weight = float(consistency_weight)
        self.vae_weight = float(vae_weight)
        self.kl_weight = float(kl_weight)
        self.confidence_threshold = float(confidence_threshold)
        self.seed = int(seed)
        self.device = device
        self._net: Any = None
        self._dims: list[int] | None = None
        self.history: list[dict[str, float]] = []
        self.fit_summary: dict[str, Any] = {}

    @property  # type: ignore[override]
    def requires_fit(self) -> bool:
        return self.checkpoint is None and self._net is None

    @property
    def model_id(self) -> str | None:
        return self.checkpoint

    def _load(self) -> tuple[Any, list[int]]:
        if self._net is None:
            if self.checkpoint is None:
                raise ConfigError(f"{self.name} needs checkpoint=... or fit(samples) first")
            from .trainer import load_augmenter

            net, dims, keys = load_augmenter(self.checkpoint)
            if keys is not None and len(keys) != len(self.feature_keys):
                raise ConfigError(f"{self.name}: checkpoint was trained on {len(keys)} feature vectors {keys}, "
                                  f"but feature_keys has {len(self.feature_keys)}")
            if len(dims) != len(self.feature_keys):
                raise ConfigError(f"{self.name}: checkpoint expects {len(dims)} feature vectors, "
                                  f"feature_keys names {len(self.feature_keys)}")
            self._net, self._dims = net, dims
        return self._net, self._dims  # type: ignore[return-value]

    def features_of(self, sample: Sample, dims: Sequence[int] | None = None) -> list[list[float]]:
        """The per-modality feature vectors stored in ``sample.meta`` (validated)."""
        if not isinstance(sample, Sample):
            raise BadSample(f"{self.name}: expected a Sample, got {type(sample).__name__}")
        out = []
        for i, key in enumerate(self.feature_keys):
            value = sample.meta.get(key)
            if value is None:
                raise BadSample(f"{self.name}: meta has no feature vector {key!r} (meta keys: {sorted(sample.meta)})",
                                sample_id=sample.id, field=key)
            try:
                vec = [float(v) for v in (value.tolist() if hasattr(value, "tolist") else value)]
            except (TypeError, ValueError):
                raise BadSample(f"{self.name}: feature vector {key!r} is not a list of numbers",
                                sample_id=sample.id, field=key) from None
            if not vec or not all(math.isfinite(v) for v in vec):
                raise BadSample(f"{self.name}: feature vector {key!r} is empty or has NaN/inf values",
                                sample_id=sample.id, field=key)
            if dims is not None and len(vec) != dims[i]:
                raise BadSample(f"{self.name}: feature vector {key!r} has {len(vec)} values; the augmenter "
                                f"expects {dims[i]}", sample_id=sample.id, field=key)
            out.append(vec)
        return out

    # -- fitting -----------------------------------------------------------------------
    def fit(self, samples: Iterable[Sample]) -> None:
        """Train the augmentation network jointly with an MLP classifier on features and labels."""
        from ..stylegan2._torch import import_torch
        from .trainer import LeMDATrainer, save_augmenter

        torch = import_torch()
        rows, labels = [], []
        dims: list[int] | None = None
        for s in samples:
            if not isinstance(s, Sample) or s.label is None:
                continue
            try:
                vecs = self.features_of(s, dims)
            except BadSample:
                continue
            dims = dims or [len(v) for v in vecs]
            rows.append([x for v in vecs for x in v])
            labels.append(s.label)
        classes = sorted({str(lab) for lab in labels})
        if len(rows) < 2 or len(classes) < 2:
            raise ConfigError(f"{self.name}: fit needs labelled samples of at least two classes with feature "
                              f"vectors {self.feature_keys} in meta (got {len(rows)} samples, "
                              f"{len(classes)} classes); or pass checkpoint=...")
        index = {c: i for i, c in enumerate(classes)}
        x = torch.tensor(rows, dtype=torch.float32)
        y = torch.tensor([index[str(lab)] for lab in labels])
        assert dims is not None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            widths = [sum(dims)] + self.task_hidden
            layers: list[Any] = []
            for a, b in zip(widths[:-1], widths[1:]):
                layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
            task = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], len(classes)))
        trainer = LeMDATrainer(task, dims, hidden_dims=self.hidden_dims, latent_dim=self.latent_dim, lr=self.lr,
                               aug_lr=self.aug_lr, adversarial_weight=self.adversarial_weight,
                               consistency_weight=self.consistency_weight, vae_weight=self.vae_weight,
                               kl_weight=self.kl_weight,
                               confidence_threshold=self.confidence_threshold, seed=self.seed, device=self.device)
        gen = torch.Generator().manual_seed(self.seed)
        history = []
        per_epoch = max(1, sum(1 for start in range(0, len(rows), self.batch_size)
                               if min(self.batch_size, len(rows) - start) >= 2))
        epochs = self.epochs if self.epochs is not None else max(1, math.ceil(self.min_steps / per_epoch))
        for _ in range(epochs):
            order = torch.randperm(len(rows), generator=gen)
            for start in range(0, len(rows), self.batch_size):
                idx = order[start:start + self.batch_size]
                if len(idx) < 2:
                    continue
                history.append(trainer.step((x[idx], y[idx])))
        self.history = history
        active = any(h["confident"] > 0 for h in history)
        self.fit_summary = {"epochs": epochs, "steps": len(history), "consistency_active": active,
                            "confident_fraction_last": history[-1]["confident"] if history else 0.0}
        if not active:
            log.warning("%s: no training sample reached confidence_threshold=%s in %d steps, so the consistency "
                        "term never acted and augmentations need not keep their labels; train longer or "
                        "lower confidence_threshold", self.name, self.confidence_threshold, len(history))
        self._net, self._dims = trainer.augmenter.cpu().eval(), dims
        if self.save_to:
            save_augmenter(self.save_to, self._net, dims, self.feature_keys)

    # -- augmentation --------------------------------------------------------------------
    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        from ..stylegan2._torch import import_torch
        from .trainer import augment_features_seeded

        torch = import_torch()
        net, dims = self._load()
        out: list[list[Sample]] = []
        for sample in samples:
            vecs = self.features_of(sample, dims)
            x = torch.tensor([[v for vec in vecs for v in vec]], dtype=torch.float32)
            group = []
            seeds = [seeder.integer_seed(self.name, sample.id, k) for k in range(self.n)]
            augmented = augment_features_seeded(net, x, seeds, noise_scale=self.noise_scale)  # encoded once
            for k, (seed, features) in enumerate(zip(seeds, augmented)):
                aug = features[0].tolist()
                meta = dict(sample.meta)
                start = 0
                for key, d in zip(self.feature_keys, dims):
                    meta[key] = aug[start:start + d]
                    start += d
                params = {"feature_keys": self.feature_keys, "noise_scale": self.noise_scale}
                if "consistency_active" in self.fit_summary:
                    params["consistency_active"] = self.fit_summary["consistency_active"]
                step = self.lineage_step(params, seed=seed)
                group.append(sample.replace(id=f"{sample.id}~{k}", parent_id=sample.id, meta=meta,
                                            lineage=sample.lineage + (step,)))
            out.append(group)
        return out

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self.checkpoint is not None:
            state["_net"] = None  # reloaded from the checkpoint
        return state


__all__ = ["LeMDARecipe"]
