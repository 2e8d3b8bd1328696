"""Joint training of LeMDA's augmentation network with a user's task network.

One :meth:`LeMDATrainer.step` (Liu et al., 2022, Algorithm 1):

1. features ``x`` (given, or from the user's ``encoder`` on raw inputs) are
   concatenated over modalities;
2. the augmentation network makes ``x_aug`` from ``x`` (detached);
3. the task network is trained on both: ``L(F(x), y) + L(F(R(x_aug)), y)``, where
   ``R`` is gradient reversal, so the same backward pass pushes the augmentation
   network to *increase* the task loss on its augmentations (the adversarial signal);
4. the augmentation network also minimises ``consistency_weight * KL(F(x) || F(x_aug))``
   on confident samples plus ``vae_weight *`` its VAE loss; these gradients reach only
   the augmentation network.

The task network receives the concatenated features ``[N, sum(feature_dims)]``, or a
list of per-modality tensors with ``split_features=True``.

Example:
    >>> import torch
    >>> task = torch.nn.Linear(4, 2)
    >>> trainer = LeMDATrainer(task, feature_dims=[2, 2], hidden_dims=(8,), seed=0)
    >>> x, y = torch.randn(8, 4), torch.tensor([0, 1] * 4)
    >>> sorted(trainer.step((x, y)))
    ['confident', 'consistency', 'task', 'task_aug', 'total', 'vae']
    >>> trainer.augment(x[:2], seed=1).shape == (2, 4)
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from crossaug import ConfigError, MissingResource
from crossaug.precision import MixedPrecision, apply_torch_threads

from ..stylegan2._torch import import_torch
from .losses import confident_consistency_kl, vae_loss
from .networks import AugmentationNetwork, grad_reverse

torch = import_torch()
import torch.nn.functional as F  # noqa: E402

CHECKPOINT_FORMAT = "crossaug-lemda"


class LeMDATrainer:
    """Train a task network together with a LeMDA augmentation network.

    Args:
        task_model: ``torch.nn.Module`` mapping features to predictions (logits).
        feature_dims: size of each modality's feature vector, in concatenation order.
        encoder: optional module/callable mapping a batch's raw inputs to a list of
            per-modality feature tensors (trained with the task optimizer if a module).
        hidden_dims: hidden sizes of the augmentation MLP-VAE.
        latent_dim: its latent size (default half the feature size).
        lr: Adam learning rate of the task network (and encoder).
        aug_lr: Adam learning rate of the augmentation network.
        adversarial_weight: gradient-reversal scale (strength of the adversarial signal).
        consistency_weight: weight of the confident-sample consistency KL.
        vae_weight: weight of the VAE loss.
        kl_weight: weight of the VAE's KL term inside the VAE loss.
        confidence_threshold: minimum max-probability of a sample for the consistency term.
        loss_fn: task loss ``(predictions, targets) -> scalar`` (default cross-entropy).
        split_features: pass a list of per-modality tensors to ``task_model``.
        task_optimizer: an optimizer of your own for the task network (replaces Adam).
        seed: seed of the augmentation network's weights and its sampling noise.
        device: torch device.
        dtype: training precision: ``float32`` (default), or a half dtype (``float16``,
            ``bfloat16``, ``auto``) for autocast forward passes over float32 master weights
            (bfloat16 on CPU, float16 with a gradient scaler on CUDA). A NaN/inf loss raises
            ``TrainingDiverged`` naming the step.
    """

    def __init__(self, task_model: Any, feature_dims: Sequence[int], *, encoder: Any = None,
                 hidden_dims: Sequence[int] = (256,), latent_dim: int | None = None, lr: float = 1e-3,
                 aug_lr: float = 1e-3, adversarial_weight: float = 1.0, consistency_weight: float = 10.0,
                 vae_weight: float = 1.0, kl_weight: float = 0.1, confidence_threshold: float = 0.5,
                 loss_fn: Callable[[Any, Any], Any] | None = None, split_features: bool = False,
                 task_optimizer: Any = None, seed: int = 0, device: str = "cpu", dtype: str = "float32") -> None:
        dims = [int(d) for d in feature_dims]
        if not dims or min(dims) < 1:
            raise ConfigError(f"feature_dims must be positive sizes, got {list(feature_dims)}")
        if not 0.0 <= confidence_threshold <= 1.0:
            raise ConfigError(f"confidence_threshold must lie in [0, 1], got {confidence_threshold}")
        self.device = torch.device(device)
        self.task_model = task_model.to(self.device)
        self.feature_dims = dims
        self.encoder = encoder
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.augmenter = AugmentationNetwork(sum(dims), hidden_dims, latent_dim).to(self.device)
        params = list(task_model.parameters())
        if isinstance(encoder, torch.nn.Module):
            encoder.to(self.device)
            params += list(encoder.parameters())
        self.task_optimizer = task_optimizer or torch.optim.Adam(params, lr=lr)
        self.aug_optimizer = torch.optim.Adam(self.augmenter.parameters(), lr=aug_lr)
        self.adversarial_weight = float(adversarial_weight)
        self.consistency_weight = float(consistency_weight)
        self.vae_weight = float(vae_weight)
        self.kl_weight = float(kl_weight)
        self.confidence_threshold = float(confidence_threshold)
        self.loss_fn = loss_fn or F.cross_entropy
        self.split_features = split_features
        self.generator = torch.Generator().manual_seed(seed)
        self.steps = 0
        self.precision = MixedPrecision(dtype, str(self.device), what="LeMDA")

    # -- helpers -----------------------------------------------------------------------
    def features(self, inputs: Any) -> Any:
        """Concatenated features ``[N, sum(feature_dims)]`` of a batch's inputs."""
        return self._concat(self.encoder(inputs) if self.encoder is not None else inputs)

    def _concat(self, feats: Any) -> Any:
        if isinstance(feats, (list, tuple)):
            feats = torch.cat([f.reshape(f.shape[0], -1) for f in feats], dim=1)
        feats = feats.to(self.device).float()
        if feats.dim() != 2 or feats.shape[1] != sum(self.feature_dims):
            raise ConfigError(f"features have shape {tuple(feats.shape)}; expected [N, {sum(self.feature_dims)}] "
                              f"(feature_dims {self.feature_dims})")
        return feats

    def split(self, x: Any) -> list[Any]:
        """Per-modality chunks of concatenated features."""
        return list(torch.split(x, self.feature_dims, dim=1))

    def predict(self, x: Any) -> Any:
        return self.task_model(self.split(x) if self.split_features else x)

    # -- training ----------------------------------------------------------------------
    def step(self, batch: Sequence[Any]) -> dict[str, float]:
        """One joint update on ``batch = (inputs, targets)``; returns the loss terms.

        ``confident`` is the fraction of the batch whose prediction reached
        ``confidence_threshold``: where it is 0 the consistency term is inactive.
        """
        inputs, targets = batch[0], batch[1]
        targets = targets.to(self.device)
        self.task_model.train()
        self.augmenter.train()
        mp = self.precision
        if self.device.type == "cpu":
            apply_torch_threads()
        with mp.autocast():
            x = self.features(inputs)
            logits = self.predict(x).float()
            loss_task = self.loss_fn(logits, targets)
            x_aug, mu, logvar = self.augmenter(x.detach(), generator=self.generator)
            logits_adv = self.predict(grad_reverse(x_aug, self.adversarial_weight)).float()
            loss_task_aug = self.loss_fn(logits_adv, targets)
            # regularisers of the augmentation network (gradients to it only)
            consistency = confident_consistency_kl(logits.detach(), self.predict(x_aug).float(),
                                                   self.confidence_threshold)
            with torch.no_grad():
                confident = (F.softmax(logits.detach(), dim=1).max(dim=1).values >= self.confidence_threshold)
            vae = vae_loss(x.detach().float(), x_aug.float(), mu.float(), logvar.float(), self.kl_weight)
        reg = self.consistency_weight * consistency + self.vae_weight * vae
        total = loss_task + loss_task_aug
        mp.check(total, self.steps)
        mp.check(reg, self.steps)
        scale = mp.scaler.scale if mp.scaler is not None else (lambda t: t)  # one scale for both gradients
        aug_params = list(self.augmenter.parameters())
        reg_grads = torch.autograd.grad(scale(reg), aug_params, retain_graph=True, allow_unused=True)
        self.task_optimizer.zero_grad(set_to_none=True)
        self.aug_optimizer.zero_grad(set_to_none=True)
        scale(total).backward()
        for p, g in zip(aug_params, reg_grads):
            if g is None:
                continue
            p.grad = g if p.grad is None else p.grad + g
        if mp.scaler is not None:
            mp.scaler.step(self.task_optimizer)
            mp.scaler.step(self.aug_optimizer)
            mp.scaler.update()
        else:
            self.task_optimizer.step()
            self.aug_optimizer.step()
        self.steps += 1
        return {"task": float(loss_task.detach()), "task_aug": float(loss_task_aug.detach()),
                "consistency": float(consistency.detach()), "vae": float(vae.detach()),
                "confident": float(confident.float().mean()),
                "total": float((total + reg).detach())}

    def augment(self, features: Any, seed: int | None = None, noise_scale: float = 1.0) -> Any:
        """Augmented features (no gradients) of ``[N, D]`` features or a per-modality list.

        With ``seed``, the sampling noise comes from that seed; otherwise from the
        trainer's own generator.
        """
        x = self._concat(features)
        return augment_features(self.augmenter, x, seed=seed, noise_scale=noise_scale,
                                generator=None if seed is not None else self.generator)

    # -- checkpoints -------------------------------------------------------------------
    def save_augmenter(self, path: str | Path, feature_keys: Sequence[str] | None = None) -> Path:
        """Write the augmentation network (for the ``lemda`` recipe) to ``path``."""
        return save_augmenter(path, self.augmenter, self.feature_dims, feature_keys)


def augment_features(augmenter: Any, x: Any, seed: int | None = None, noise_scale: float = 1.0,
                     generator: Any = None) -> Any:
    """Run a trained augmentation network on ``x`` ``[N, D]`` with seeded noise."""
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed or 0))
    with _inference(augmenter):
        out, _, _ = augmenter(x.float(), generator=gen, noise_scale=noise_scale)
    return out


def augment_features_seeded(augmenter: Any, x: Any, seeds: Sequence[int], noise_scale: float = 1.0) -> list[Any]:
    """``[augment_features(augmenter, x, seed=s, noise_scale=noise_scale) for s in seeds]``, with the
    encoder run once (the outputs of one input differ only by their noise)."""
    with _inference(augmenter):
        mu, logvar = augmenter.encode(x.float())
        return [augmenter.decode(mu, logvar, torch.Generator().manual_seed(int(s or 0)), noise_scale) for s in seeds]


@contextlib.contextmanager
def _inference(augmenter: Any) -> Iterator[None]:
    """``augmenter`` in eval mode without gradients for the block, then back to the mode it was in."""
    was = augmenter.training
    augmenter.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        augmenter.train(was)


def save_augmenter(path: str | Path, augmenter: Any, feature_dims: Sequence[int],
                   feature_keys: Sequence[str] | None = None) -> Path:
    """Save an augmentation network with its feature layout."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": CHECKPOINT_FORMAT, "version": 1, "config": dict(augmenter.config),
            "feature_dims": [int(d) for d in feature_dims],
            "feature_keys": list(feature_keys) if feature_keys is not None else None,
            "state": {k: v.cpu() for k, v in augmenter.state_dict().items()}}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    return path


def load_augmenter(path: str | Path) -> tuple[Any, list[int], list[str] | None]:
    """``(augmentation network, feature_dims, feature_keys)`` from :func:`save_augmenter`'s file."""
    path = Path(path)
    if not path.is_file():
        raise MissingResource(f"LeMDA checkpoint {path}",
                              "train with LeMDATrainer and call save_augmenter(path), or fit the lemda recipe")
    data = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ConfigError(f"{path} is not a crossaug LeMDA checkpoint")
    cfg = data["config"]
    net = AugmentationNetwork(cfg["feature_dim"], cfg["hidden_dims"], cfg["latent_dim"])
    net.load_state_dict(data["state"])
    return net.eval(), list(data["feature_dims"]), data.get("feature_keys")


__all__ = ["LeMDATrainer", "augment_features", "augment_features_seeded", "save_augmenter", "load_augmenter",
           "CHECKPOINT_FORMAT"]
