"""Recipe ``tmmda``: train TMMDA on the samples' aligned feature sequences, write virtual modalities.

Samples carry their aligned sequences in ``meta`` (a JSONL column that is not a modality
field lands there): ``{"id": "c1", "text": "...", "language": [[...], ...],
"vision": [[...], ...], "acoustic": [[...], ...], "label": "positive"}``, each a ``[T, d]``
list of lists with one ``T`` per sample. :meth:`TMMDARecipe.fit` (run by ``crossaug run``
before processing) trains :class:`~.trainer.TMMDATrainer` on the labelled samples;
:meth:`~TMMDARecipe.process` then writes ``n`` virtual-modality sequences per input
(``meta["virtual"]``, ``[T, dim]``), each from its own seeded token mixup and generator
noise, with the raw sequences and the label carried over. TMMDA uses the virtual
modality inside its fusion model; the recipe exposes it so it can be stored and reused
as extra input features.

Example:
    >>> TMMDARecipe().requires_fit
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug.recipe import Recipe


class TMMDARecipe(Recipe):
    """Token-mixup virtual modalities of samples' aligned feature sequences (TMMDA).

    Args:
        feature_keys: ``meta`` keys of the (language, vision, acoustic) sequences, in that order.
        n: virtual sequences per input.
        task: ``classification`` (labels are classes) or ``regression`` (labels are numbers).
        p_second, p_third: mixup probabilities of a token from the second / third modality (ours: 0.3 each).
        dim, hidden: common token width and hidden width of the networks (ours).
        noise_std: generator input noise (ours).
        gan_weight, jsd_weight: weights of the adversarial and JSD terms (ours).
        epochs: passes over the data in :meth:`fit`; ``None``: enough for ``min_steps``.
        min_steps: optimiser steps at least (ours).
        batch_size, lr: training settings.
        seed: seed of fitting.
        device: torch device.
        checkpoint: a trained model (:meth:`TMMDATrainer.save`); then no fitting is needed, and the
            network and mixup settings are the checkpoint's.
        save_to: where :meth:`fit` writes the trained model (optional).
    """

    name: ClassVar[str] = "tmmda"

    def __init__(self, feature_keys: Sequence[str] = ("language", "vision", "acoustic"), n: int = 1,
                 task: str = "classification", p_second: float = 0.3, p_third: float = 0.3, dim: int = 32,
                 hidden: int = 64, noise_std: float = 0.1, gan_weight: float = 0.1, jsd_weight: float = 1.0,
                 epochs: int | None = None, min_steps: int = 100, batch_size: int = 32, lr: float = 1e-3,
                 seed: int = 0, device: str = "cpu", checkpoint: str | None = None,
                 save_to: str | None = None) -> None:
        if isinstance(feature_keys, str) or len(feature_keys) != 3:
            raise ConfigError(f"{self.name}: feature_keys must name three meta keys, got {feature_keys!r}")
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"{self.name}: n must be a positive integer, got {n!r}")
        if task not in ("classification", "regression"):
            raise ConfigError(f"{self.name}: task must be 'classification' or 'regression', got {task!r}")
        if not (0 <= p_second and 0 <= p_third and p_second + p_third <= 1):
            raise ConfigError(f"{self.name}: need p_second, p_third >= 0 and p_second + p_third <= 1")
        if (epochs is not None and int(epochs) < 1) or int(min_steps) < 1 or int(batch_size) < 1:
            raise ConfigError(f"{self.name}: epochs, min_steps and batch_size must be positive")
        self.feature_keys = [str(k) for k in feature_keys]
        self.n, self.task = n, task
        self.p_second, self.p_third = float(p_second), float(p_third)
        self.dim, self.hidden, self.noise_std = int(dim), int(hidden), float(noise_std)
        self.gan_weight, self.jsd_weight = float(gan_weight), float(jsd_weight)
        self.epochs = None if epochs is None else int(epochs)
        self.min_steps, self.batch_size, self.lr = int(min_steps), int(batch_size), float(lr)
        self.seed, self.device = int(seed), device
        self.checkpoint = None if checkpoint is None else str(checkpoint)
        self.save_to = None if save_to is None else str(save_to)
        self._trainer: Any = None
        self.history: list[dict[str, float]] = []

    @property  # type: ignore[override]
    def requires_fit(self) -> bool:
        return self._trainer is None and self.checkpoint is None

    @property
    def model_id(self) -> str | None:
        return self.checkpoint

    def _load(self) -> Any:
        if self._trainer is None:
            if self.checkpoint is None:
                raise ConfigError(f"{self.name}: call fit(samples) first (crossaug run does) or pass checkpoint=")
            from .trainer import TMMDATrainer

            trainer, keys = TMMDATrainer.load(self.checkpoint, self.device)
            if keys is not None and len(keys) != 3:
                raise ConfigError(f"{self.name}: checkpoint {self.checkpoint} names feature keys {keys}")
            self._trainer = trainer
        return self._trainer

    def sequences_of(self, sample: Sample, dims: Sequence[int] | None = None) -> list[np.ndarray]:
        """The three ``[T, d]`` sequences stored in ``sample.meta`` (validated)."""
        if not isinstance(sample, Sample):
            raise BadSample(f"{self.name}: expected a Sample, got {type(sample).__name__}")
        out = []
        for i, key in enumerate(self.feature_keys):
            if sample.meta.get(key) is None:
                raise BadSample(f"{self.name}: meta has no sequence {key!r} (meta keys: {sorted(sample.meta)})",
                                sample_id=sample.id, field=key)
            try:
                arr = np.asarray(sample.meta[key], dtype=np.float32)
            except (TypeError, ValueError):
                raise BadSample(f"{self.name}: sequence {key!r} is not a [T, d] array of numbers",
                                sample_id=sample.id, field=key) from None
            if arr.ndim != 2 or arr.size == 0 or not np.isfinite(arr).all():
                raise BadSample(f"{self.name}: sequence {key!r} must be a non-empty [T, d] array of finite "
                                f"numbers, got shape {arr.shape}", sample_id=sample.id, field=key)
            if dims is not None and arr.shape[1] != dims[i]:
                raise BadSample(f"{self.name}: sequence {key!r} has width {arr.shape[1]}; the model expects "
                                f"{dims[i]}", sample_id=sample.id, field=key)
            out.append(arr)
        if len({a.shape[0] for a in out}) != 1:
            raise BadSample(f"{self.name}: sequences {self.feature_keys} are not aligned (lengths "
                            f"{[a.shape[0] for a in out]})", sample_id=sample.id, field=self.feature_keys[0])
        return out

    def fit(self, samples: Iterable[Sample]) -> None:
        """Train TMMDA (encoders, GAN, fusion head) on the labelled samples' sequences."""
        from ..stylegan2._torch import import_torch
        from .trainer import TMMDATrainer

        torch = import_torch()
        rows: list[list[np.ndarray]] = []
        labels: list[Any] = []
        dims: list[int] | None = None
        for s in samples:
            if not isinstance(s, Sample) or s.label is None:
                continue
            seqs = self.sequences_of(s, dims)
            dims = dims or [a.shape[1] for a in seqs]
            rows.append(seqs)
            labels.append(s.label)
        if self.task == "classification":
            classes = sorted({str(lab) for lab in labels})
            if len(classes) < 2:
                raise ConfigError(f"{self.name}: fit needs labelled samples of two classes or more with sequences "
                                  f"{self.feature_keys} in meta (got {len(rows)} samples, {len(classes)} classes)")
            y = torch.tensor([classes.index(str(lab)) for lab in labels])
            out_dim = len(classes)
        else:
            try:
                y = torch.tensor([float(lab) for lab in labels])
            except (TypeError, ValueError):
                raise ConfigError(f"{self.name}: task='regression' needs numeric labels") from None
            if len(rows) < 2:
                raise ConfigError(f"{self.name}: fit needs two labelled samples or more")
            out_dim = 1
        assert dims is not None
        trainer = TMMDATrainer(dims, out_dim, task=self.task, dim=self.dim, hidden=self.hidden,
                               p_second=self.p_second, p_third=self.p_third, noise_std=self.noise_std,
                               gan_weight=self.gan_weight, jsd_weight=self.jsd_weight, lr=self.lr, seed=self.seed,
                               device=self.device)
        by_length: dict[int, list[int]] = {}
        for i, seqs in enumerate(rows):
            by_length.setdefault(seqs[0].shape[0], []).append(i)
        batches = [idx[k:k + self.batch_size] for idx in by_length.values()
                   for k in range(0, len(idx), self.batch_size)]
        epochs = self.epochs if self.epochs is not None else max(1, math.ceil(self.min_steps / len(batches)))
        order = np.random.default_rng(self.seed)
        history = []
        for _ in range(epochs):
            for b in order.permutation(len(batches)):
                idx = batches[int(b)]
                seqs = [torch.from_numpy(np.stack([rows[i][m] for i in idx])) for m in range(3)]
                history.append(trainer.step((*seqs, y[idx])))
        self.history, self._trainer = history, trainer
        if self.save_to:
            trainer.save(self.save_to, self.feature_keys)

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        trainer = self._load()
        torch = __import__("torch")
        out = []
        for sample in samples:
            seqs = self.sequences_of(sample, trainer.feature_dims)
            batch = [torch.from_numpy(a[None]) for a in seqs]
            group = []
            seeds = [seeder.integer_seed(self.name, sample.id, k) for k in range(self.n)]
            for k, (seed, virtual) in enumerate(zip(seeds, trainer.virtuals(batch, seeds))):  # projected once
                meta = {**sample.meta, "virtual": round6(virtual[0])}
                step = self.lineage_step({"feature_keys": self.feature_keys, "p_second": trainer.p_second,
                                          "p_third": trainer.p_third, "steps_trained": len(self.history)}, seed=seed)
                group.append(sample.replace(id=f"{sample.id}~{k}", parent_id=sample.id, meta=meta,
                                            lineage=sample.lineage + (step,)))
            out.append(group)
        return out


def round6(values: Any) -> list[Any]:
    """``values`` (a tensor or array) as nested lists of ``round(v, 6)``, as Python rounds each float.

    For 32-bit (or narrower) floats it is computed at once: such a value times 10^6 is exact in
    float64 (24 + 14 bits of mantissa), so ``rint`` rounds the exact product half to even, as
    ``round`` does, and the correctly rounded division by 10^6 gives the double nearest to the
    rounded decimal, which is what ``round`` returns. Wider floats are rounded one by one.

    Example:
        >>> import numpy as np
        >>> round6(np.array([[0.0078125, 1.2345675]], dtype=np.float32))
        [[0.007812, 1.234568]]
    """
    if hasattr(values, "detach"):  # a tensor; half floats widened exactly (numpy has no bfloat16)
        values = values.detach().cpu()
        values = (values.float() if values.is_floating_point() and values.element_size() < 4 else values).numpy()
    arr = np.asarray(values)
    if arr.dtype.kind == "f" and arr.dtype.itemsize <= 4:
        return (np.rint(arr.astype(np.float64) * 1e6) / 1e6).tolist()
    return _round_each(arr.tolist())


def _round_each(value: Any) -> Any:
    return [_round_each(v) for v in value] if isinstance(value, list) else round(float(value), 6)


__all__ = ["TMMDARecipe", "round6"]
