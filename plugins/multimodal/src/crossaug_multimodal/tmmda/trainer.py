"""Joint training of TMMDA on a user's aligned modality sequences.

One :meth:`TMMDATrainer.step` on ``(language, vision, acoustic, targets)`` (tensors
``[N, T, d_k]``, aligned token by token):

1. each modality is projected to a common width ``dim`` (the unimodal encoders);
2. the projected sequences are mixed token by token (:func:`~.mixup.token_mixup`'s rule
   with ``p_second`` / ``p_third``, draws from the trainer's generator);
3. the generator turns the mixed sequence plus Gaussian noise into the virtual modality;
   the discriminator learns to tell raw tokens (1) from virtual ones (0), and the
   generator is trained to fool it plus ``jsd_weight`` times the JSD between the virtual
   tokens and each raw modality's tokens;
4. the fusion head (cross-modal attention from each raw modality to the virtual one)
   predicts the target; its loss trains the encoders, the generator and the head.

Example:
    >>> import torch
    >>> tr = TMMDATrainer([4, 3, 2], out_dim=2, dim=8, hidden=16, seed=0)
    >>> x = [torch.randn(6, 5, d) for d in (4, 3, 2)]
    >>> sorted(tr.step((*x, torch.tensor([0, 1] * 3))))
    ['discriminator', 'generator', 'jsd', 'task', 'total']
    >>> tr.virtual(x, seed=1).shape
    torch.Size([6, 5, 8])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crossaug import ConfigError, MissingResource

from ..stylegan2._torch import import_torch
from .losses import token_jsd
from .mixup import mixup_sources
from .networks import CrossModalFusion, Discriminator, Generator

torch = import_torch()
import torch.nn.functional as F  # noqa: E402

CHECKPOINT_FORMAT = "crossaug-tmmda"


def mix_tokens(projected: Sequence[Any], p_second: float, p_third: float, generator: Any) -> tuple[Any, Any]:
    """Torch form of the token mixup over ``[N, T, dim]`` sequences; returns (mixed, source ``[N, T]``)."""
    mixup_sources([0.5], p_second, p_third)  # validates the probabilities
    n, t = projected[0].shape[:2]
    u = torch.rand((n, t), generator=generator).to(projected[0].device)
    source = torch.where(u < p_second, 1, torch.where(u < p_second + p_third, 2, 0))
    stacked = torch.stack(list(projected))  # [3, N, T, dim]
    index = source.unsqueeze(0).unsqueeze(-1).expand(1, n, t, stacked.shape[-1])
    return stacked.gather(0, index).squeeze(0), source


class TMMDATrainer:
    """Train TMMDA's encoders, GAN and fusion head on aligned feature sequences.

    Args:
        feature_dims: width of each modality's tokens (language, vision, acoustic).
        out_dim: classes (classification) or outputs (regression).
        task: ``classification`` (cross-entropy) or ``regression`` (L1, as MOSI-style sentiment scores).
        dim: common token width after the projections.
        hidden: hidden width of the generator, discriminator and head.
        p_second, p_third: token mixup probabilities (vision, acoustic tokens into the language sequence).
        noise_std: standard deviation of the generator's Gaussian input noise.
        gan_weight: weight of the generator's adversarial loss.
        jsd_weight: weight of the JSD term.
        lr: Adam learning rate of both optimisers.
        loss_fn: task loss override ``(predictions, targets) -> scalar``.
        seed: seed of the weights and of the mixup and noise draws.
        device: torch device.
    """

    def __init__(self, feature_dims: Sequence[int], out_dim: int, *, task: str = "classification", dim: int = 32,
                 hidden: int = 64, p_second: float = 0.3, p_third: float = 0.3, noise_std: float = 0.1,
                 gan_weight: float = 0.1, jsd_weight: float = 1.0, lr: float = 1e-3,
                 loss_fn: Callable[[Any, Any], Any] | None = None, seed: int = 0, device: str = "cpu") -> None:
        dims = [int(d) for d in feature_dims]
        if len(dims) != 3 or min(dims) < 1:
            raise ConfigError(f"TMMDA needs three positive feature widths (language, vision, acoustic), got {dims}")
        if task not in ("classification", "regression"):
            raise ConfigError(f"task must be 'classification' or 'regression', got {task!r}")
        mixup_sources([0.5], p_second, p_third)
        self.config = {"feature_dims": dims, "out_dim": int(out_dim), "task": task, "dim": int(dim),
                       "hidden": int(hidden), "p_second": float(p_second), "p_third": float(p_third),
                       "noise_std": float(noise_std), "gan_weight": float(gan_weight),
                       "jsd_weight": float(jsd_weight), "lr": float(lr)}
        self.feature_dims, self.dim, self.task = dims, int(dim), task
        self.p_second, self.p_third, self.noise_std = float(p_second), float(p_third), float(noise_std)
        self.gan_weight, self.jsd_weight = float(gan_weight), float(jsd_weight)
        self.device = torch.device(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.encoders = torch.nn.ModuleList(torch.nn.Linear(d, self.dim) for d in dims).to(self.device)
            self.generator_net = Generator(self.dim, hidden).to(self.device)
            self.discriminator = Discriminator(self.dim, hidden).to(self.device)
            self.fusion = CrossModalFusion(self.dim, 3, int(out_dim), hidden=hidden).to(self.device)
        main = [*self.encoders.parameters(), *self.generator_net.parameters(), *self.fusion.parameters()]
        self.optimizer = torch.optim.Adam(main, lr=lr)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=lr)
        self.loss_fn = loss_fn or (F.cross_entropy if task == "classification"
                                   else (lambda p, y: F.l1_loss(p.squeeze(-1), y.float())))
        self.rng = torch.Generator().manual_seed(seed)
        self.steps = 0

    def project(self, sequences: Sequence[Any]) -> list[Any]:
        """The three sequences projected to ``[N, T, dim]`` (checked for alignment)."""
        if len(sequences) != 3:
            raise ConfigError(f"TMMDA takes three sequences, got {len(sequences)}")
        seqs = [torch.as_tensor(s, dtype=torch.float32).to(self.device) for s in sequences]
        shapes = [tuple(s.shape) for s in seqs]
        if any(len(s) != 3 for s in shapes) or len({s[:2] for s in shapes}) != 1:
            raise ConfigError(f"sequences must be [N, T, d] with one N and T (aligned), got {shapes}")
        for s, d in zip(seqs, self.feature_dims):
            if s.shape[-1] != d:
                raise ConfigError(f"sequence widths {[s[-1] for s in shapes]} differ from {self.feature_dims}")
        return [enc(s) for enc, s in zip(self.encoders, seqs)]

    def step(self, batch: Sequence[Any]) -> dict[str, float]:
        """One update of the discriminator, then of the encoders, generator and head."""
        *seqs, targets = batch
        targets = torch.as_tensor(targets).to(self.device)
        for m in (self.encoders, self.generator_net, self.discriminator, self.fusion):
            m.train()
        raws = self.project(seqs)
        mixed, _ = mix_tokens(raws, self.p_second, self.p_third, self.rng)
        virtual = self.generator_net(mixed, self.noise_std, self.rng)
        real_tokens = torch.cat(raws, dim=1).detach()
        d_real, d_fake = self.discriminator(real_tokens), self.discriminator(virtual.detach())
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self.d_optimizer.zero_grad(set_to_none=True)
        loss_d.backward()
        self.d_optimizer.step()
        g_logit = self.discriminator(virtual)
        loss_g = F.binary_cross_entropy_with_logits(g_logit, torch.ones_like(g_logit))
        jsd = sum(token_jsd(virtual, r.detach()) for r in raws) / len(raws)
        loss_task = self.loss_fn(self.fusion(raws, virtual), targets)
        total = loss_task + self.gan_weight * loss_g + self.jsd_weight * jsd
        if not torch.isfinite(total):
            from crossaug.precision import TrainingDiverged

            raise TrainingDiverged(f"TMMDA step {self.steps}: loss is {float(total)}")
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.steps += 1
        return {"task": float(loss_task.detach()), "generator": float(loss_g.detach()),
                "discriminator": float(loss_d.detach()), "jsd": float(jsd.detach()), "total": float(total.detach())}

    def _modules(self) -> dict[str, Any]:
        return {"encoders": self.encoders, "generator": self.generator_net, "discriminator": self.discriminator,
                "fusion": self.fusion}

    def save(self, path: str | Path, feature_keys: Sequence[str] | None = None) -> Path:
        """Write the networks and their configuration to ``path`` (``torch.save``, plain tensors and values)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"format": CHECKPOINT_FORMAT, "config": self.config,
                    "feature_keys": list(feature_keys) if feature_keys is not None else None,
                    "state": {k: m.state_dict() for k, m in self._modules().items()}}, path)
        return path

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> tuple[TMMDATrainer, list[str] | None]:
        """A trainer rebuilt from :meth:`save`'s file (``weights_only``: nothing is unpickled), and its feature keys."""
        path = Path(path)
        if not path.is_file():
            raise MissingResource(f"TMMDA checkpoint {str(path)!r}", "train one with fit(..., save_to=...)")
        data = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise ConfigError(f"{path} is not a TMMDA checkpoint (format {CHECKPOINT_FORMAT!r})")
        config = dict(data["config"])
        trainer = cls(config.pop("feature_dims"), config.pop("out_dim"), device=device, **config)
        for key, module in trainer._modules().items():
            module.load_state_dict(data["state"][key])
        return trainer, data.get("feature_keys")

    @torch.no_grad()
    def virtual(self, sequences: Sequence[Any], seed: int | None = None) -> Any:
        """The virtual modality ``[N, T, dim]`` for ``sequences`` (seeded mixup and noise when ``seed`` is given)."""
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else self.rng
        return self._virtual(self.project(sequences), gen)

    @torch.no_grad()
    def virtuals(self, sequences: Sequence[Any], seeds: Sequence[int]) -> list[Any]:
        """:meth:`virtual` for each of ``seeds``, the sequences projected once (the projections draw
        nothing): the outputs of one input. Each is what ``virtual(sequences, seed)`` gives."""
        raws = self.project(sequences)
        return [self._virtual(raws, torch.Generator().manual_seed(int(seed))) for seed in seeds]

    def _virtual(self, raws: list[Any], gen: Any) -> Any:
        self.generator_net.eval()
        mixed, _ = mix_tokens(raws, self.p_second, self.p_third, gen)
        return self.generator_net(mixed, self.noise_std, gen)

    @torch.no_grad()
    def predict(self, sequences: Sequence[Any]) -> Any:
        """The fusion head's predictions (virtual modality from the trainer's generator)."""
        self.fusion.eval()
        raws = self.project(sequences)
        return self.fusion(raws, self.virtual(sequences))


__all__ = ["TMMDATrainer", "mix_tokens", "CHECKPOINT_FORMAT"]
