"""CMDA projection heads and the common latent space (torch).

Two small MLP heads map each modality's features into one ``latent_dim``-sized,
L2-normalised space, trained with the contrastive losses of :mod:`.losses`
(eq. 7, or eq. 8 when labels are given and ``supervised`` is set; as printed,
summed over the batch; ``loss_form="ntxent"`` for standard NT-Xent / SupCon).

* Offline mode: :meth:`LatentSpace.fit` learns the space first; the dataset is
  then augmented (recipe ``cmda``) before the downstream model is trained.
* Joint mode: :meth:`LatentSpace.joint_loss` is eq. 9, ``L = L_f + lam * L_g``:
  the downstream task loss ``L_f`` plus ``lam`` (paper: 0.1) times the contrastive
  loss ``L_g``, so heads and task network train together;
  :meth:`LatentSpace.augment_batch` generates new student samples inside the
  training loop.

torch is imported when this module is used, never by ``import crossaug_multimodal``.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ft, fs = rng.normal(size=(16, 5)), rng.normal(size=(16, 7))
    >>> space = LatentSpace(5, 7, latent_dim=4, hidden=8)
    >>> hist = space.fit(ft, fs, epochs=5, seed=0)
    >>> space.encode("teacher", ft).shape, len(hist)
    ((16, 4), 5)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from crossaug import MissingDependency
from crossaug.precision import MixedPrecision
from crossaug.precision import torch_threads as torch_threads_per_worker

from .losses import supervised_contrastive_loss, unsupervised_contrastive_loss

#: the paper's weight of the contrastive loss in joint mode (eq. 9, "We fix lambda = 0.1")
PAPER_LAMBDA = 0.1


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug-multimodal[torch]'", what="torch") from exc
    return torch


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (restored afterwards; ``None``: unchanged).

    Small heads train many times faster on one thread than on several busy cores.
    """
    torch = _torch()
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _scale(x: np.ndarray) -> np.ndarray:
    std = x.std(0)
    return np.where(std > 1e-8, std, 1.0)


def projection_head(in_dim: int, latent_dim: int = 64, hidden: int = 256) -> Any:
    """``Linear -> ReLU -> Linear`` head (outputs are normalised by :class:`LatentSpace`)."""
    torch = _torch()
    return torch.nn.Sequential(torch.nn.Linear(in_dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, latent_dim))


class LatentSpace:
    """Teacher and student projection heads sharing one latent space.

    Args:
        teacher_dim, student_dim: feature sizes of the two extractors.
        latent_dim: size of the common space.
        hidden: hidden width of each head.
        tau: contrastive temperature.
        supervised: use eq. 8 (same class pulled together) when labels are given.
        lam: weight of the contrastive loss in joint mode (eq. 9; paper: 0.1).
        loss_form: ``paper`` (eq. 7/8 as printed, summed over the batch) or ``ntxent``.
        include_self: keep eq. 8's printed ``j = i`` term.
        seed: seed of the heads' initialisation.
        device: torch device of the heads (``cpu``, ``cuda``...); latents come back as numpy.
        dtype: training precision: ``float32`` (default), or a half dtype for autocast over
            float32 master weights (bfloat16 on CPU, float16 with a gradient scaler on CUDA).
    """

    def __init__(self, teacher_dim: int, student_dim: int, latent_dim: int = 64, hidden: int = 256,
                 tau: float = 0.1, supervised: bool = False, lam: float = PAPER_LAMBDA, seed: int = 0,
                 device: str = "cpu", loss_form: str = "paper", include_self: bool = True,
                 dtype: str = "float32") -> None:
        torch = _torch()
        gen = torch.Generator().manual_seed(int(seed))
        self.teacher_head = projection_head(teacher_dim, latent_dim, hidden)
        self.student_head = projection_head(student_dim, latent_dim, hidden)
        with torch.no_grad():
            for p in self.parameters():
                bound = 1.0 / max(1, p.shape[-1]) ** 0.5
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * bound)
        self.tau, self.supervised, self.lam = float(tau), bool(supervised), float(lam)
        self.loss_form, self.include_self = loss_form, bool(include_self)
        self.device = str(device)
        self.dtype = str(dtype)
        self.teacher_head.to(self.device)
        self.student_head.to(self.device)
        self.teacher_mean = np.zeros(teacher_dim)
        self.teacher_scale = np.ones(teacher_dim)
        self.student_mean = np.zeros(student_dim)
        self.student_scale = np.ones(student_dim)

    def parameters(self) -> list[Any]:
        return list(self.teacher_head.parameters()) + list(self.student_head.parameters())

    def project(self, side: str, x: Any) -> Any:
        """Normalised latents of torch features ``x`` (differentiable)."""
        torch = _torch()
        head = self.teacher_head if side == "teacher" else self.student_head
        return torch.nn.functional.normalize(head(x), dim=1)

    def _standardise(self, side: str, x: Any) -> Any:
        torch = _torch()
        mean = self.teacher_mean if side == "teacher" else self.student_mean
        scale = self.teacher_scale if side == "teacher" else self.student_scale
        return torch.as_tensor((np.asarray(x, dtype=np.float64) - mean) / scale, dtype=torch.float32,
                               device=self.device)

    def encode(self, side: str, features: Any) -> np.ndarray:
        """Latents (numpy, ``N x latent_dim``) of raw features from one side."""
        torch = _torch()
        with torch.no_grad():
            return self.project(side, self._standardise(side, features)).double().cpu().numpy()

    def contrastive_loss(self, zt: Any, zs: Any, labels: Any = None) -> Any:
        """``L_g``: eq. 8 if ``supervised`` and labels are given, else eq. 7."""
        if self.supervised and labels is not None:
            return supervised_contrastive_loss(zt, zs, labels, self.tau, include_self=self.include_self,
                                               form=self.loss_form)
        return unsupervised_contrastive_loss(zt, zs, self.tau, form=self.loss_form)

    def joint_loss(self, teacher_features: Any, student_features: Any, task_loss: Any, labels: Any = None) -> Any:
        """Joint mode, eq. 9: ``L_f + lam * L_g`` (task loss plus weighted contrastive loss) of one batch."""
        zt = self.project("teacher", teacher_features)
        zs = self.project("student", student_features)
        return task_loss + self.lam * self.contrastive_loss(zt, zs, labels)

    def fit(self, teacher_features: Any, student_features: Any, labels: Sequence[Any] | None = None,
            epochs: int = 100, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
            callback: Callable[[int, float], None] | None = None, threads: int | None = -1) -> list[float]:
        """Offline mode: learn the space from paired features; returns the mean loss per epoch.

        ``threads``: torch threads while training (``-1``: one thread for small heads,
        ``None``: leave torch's setting alone).
        """
        if threads == -1:  # small heads: one thread; larger ones: cores // workers (crossaug.precision)
            threads = 1 if sum(p.numel() for p in self.parameters()) < 4_000_000 else torch_threads_per_worker()
        with torch_threads(threads):
            return self._fit(teacher_features, student_features, labels, epochs, lr, batch_size, seed, callback)

    def _fit(self, teacher_features: Any, student_features: Any, labels: Sequence[Any] | None, epochs: int,
             lr: float, batch_size: int, seed: int, callback: Callable[[int, float], None] | None) -> list[float]:
        torch = _torch()
        ft = np.asarray(teacher_features, dtype=np.float64)
        fs = np.asarray(student_features, dtype=np.float64)
        if ft.shape[0] != fs.shape[0] or ft.shape[0] < 2:
            raise ValueError(f"need at least two paired samples, got {ft.shape[0]} and {fs.shape[0]}")
        self.teacher_mean, self.teacher_scale = ft.mean(0), _scale(ft)
        self.student_mean, self.student_scale = fs.mean(0), _scale(fs)
        xt, xs = self._standardise("teacher", ft), self._standardise("student", fs)
        lab = None
        if labels is not None:
            _, lab = np.unique(np.asarray([str(v) for v in labels]), return_inverse=True)
            lab = torch.as_tensor(lab, device=self.device)
        opt = torch.optim.Adam(self.parameters(), lr=lr)
        mp = MixedPrecision(self.dtype, self.device, what="CMDA heads")  # float32 masters; NaN losses stop it
        step = 0
        gen = torch.Generator().manual_seed(int(seed))
        n = xt.shape[0]
        history = []
        for epoch in range(int(epochs)):
            order = torch.randperm(n, generator=gen)
            total, batches = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size].to(self.device)
                if idx.numel() < 2:
                    continue
                with mp.autocast():
                    zt, zs = self.project("teacher", xt[idx]), self.project("student", xs[idx])
                loss = self.contrastive_loss(zt.float(), zs.float(), None if lab is None else lab[idx])
                opt.zero_grad()
                mp.backward(loss, step)
                mp.step(opt)
                step += 1
                total += float(loss.detach())
                batches += 1
            history.append(total / max(1, batches))
            if callback is not None:
                callback(epoch, history[-1])
        return history

    def augment_batch(self, teacher_features: Any, student_features: Any, student_values: Any,
                      clusters: Any, rng: np.random.Generator, n_per_teacher: int = 1, n_mix: int = 4,
                      attention_tau: float = 1.0, responsibilities: Any = None) -> Any:
        """Joint mode: new student samples from one training batch (weights computed without gradients).

        With ``responsibilities`` (``N x M`` GMM responsibilities of the batch's student
        latents, e.g. ``ClusterModel.responsibilities``) the weights are the paper's
        eq. 10 x eq. 11 and ``clusters`` are the students' GMM clusters; without, the
        softmax variant restricted to ``clusters`` (class labels or GMM clusters) is used.
        Returns :class:`~crossaug_multimodal.cmda.interpolation.Generated`.
        """
        from .interpolation import generate

        torch = _torch()
        with torch.no_grad():
            zt = self.project("teacher", teacher_features).double().cpu().numpy()
            zs = self.project("student", student_features).double().cpu().numpy()
        values = student_values.detach().cpu().numpy() if hasattr(student_values, "detach") else student_values
        n = zt.shape[0]
        if responsibilities is not None:
            from .interpolation import generate_paper

            return generate_paper(zt, responsibilities, zs, np.asarray(clusters), values, n_per_teacher, rng,
                                  n_mix=n_mix, exclude=np.arange(n))
        return generate(zt, zt, zs, values, np.asarray(clusters), n_per_teacher, rng, n_mix=n_mix,
                        tau=attention_tau, exclude=np.arange(n))

    def state_dict(self) -> dict[str, Any]:
        return {"teacher_head": self.teacher_head.state_dict(), "student_head": self.student_head.state_dict(),
                "teacher_mean": self.teacher_mean, "teacher_scale": self.teacher_scale,
                "student_mean": self.student_mean, "student_scale": self.student_scale,
                "tau": self.tau, "supervised": self.supervised, "lam": self.lam,
                "loss_form": self.loss_form, "include_self": self.include_self}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.teacher_head.load_state_dict(state["teacher_head"])
        self.student_head.load_state_dict(state["student_head"])
        for key in ("teacher_mean", "teacher_scale", "student_mean", "student_scale", "tau", "supervised", "lam"):
            setattr(self, key, state[key])
        self.loss_form = state.get("loss_form", "ntxent")
        self.include_self = state.get("include_self", True)


__all__ = ["LatentSpace", "projection_head", "torch_threads", "PAPER_LAMBDA"]
