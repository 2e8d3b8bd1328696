"""CMDA on arrays: learn the latent space, cluster, generate (batch API for precomputed features).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centers = rng.normal(size=(2, 4))
    >>> ft = np.repeat(centers, 10, axis=0) + 0.05 * rng.normal(size=(20, 4))
    >>> fs = ft + 0.05 * rng.normal(size=(20, 4))   # precomputed, already aligned (e.g. CLIP)
    >>> raw = rng.integers(0, 255, size=(20, 8, 8, 3)).astype(np.uint8)
    >>> cmda = CMDA(latent="identity", max_components=3, covariance_type="diag").fit(ft, fs)
    >>> out = cmda.generate(np.random.default_rng(1), values=raw)
    >>> out.values.shape, out.values.dtype.name, cmda.clusters_.n_components
    ((20, 8, 8, 3), 'uint8', 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .clustering import PAPER_REG_COVAR, ClusterModel, select_gmm
from .interpolation import Generated, generate, generate_paper

LATENT_MODES = ("learned", "identity")
WEIGHTINGS = ("paper", "softmax")


class CMDA:
    """Cross-modal data augmentation (CMDA) on feature arrays.

    ``fit`` learns the common latent space from paired teacher/student features
    (torch projection heads, offline mode, eq. 7 or 8) and clusters the STUDENT
    latents with a BIC/AIC-selected Gaussian mixture; ``generate`` makes new
    student samples per teacher anchor with the eq. 10 x eq. 11 weights over all
    other fitted pairs (``weighting="paper"``), or with the softmax variant over
    ``n_mix`` cluster mates (``weighting="softmax"``).

    Args:
        n_mix: candidates per new sample; ``None`` = all (paper, ``m'``). The softmax
            variant needs a number (default there: 4).
        weighting: ``paper`` (eq. 10 x eq. 11) or ``softmax`` (double cross-attention).
        attention_tau: temperature of the softmax variant (the paper has none).
        normalise: divide the paper weights by their sum (see :mod:`.weights`).
        inter_sign: eq. 10's dot products ``abs`` (reference code, default), ``paper`` (as printed;
            undefined where they sum to <= 0) or ``clip``.
        criterion: ``"bic"`` or ``"aic"`` for the mixture size (paper: both agree).
        max_components: largest mixture tried.
        covariance_type, reg_covar: mixture covariance (paper: full, 1e-6).
        latent: ``"learned"`` (projection heads, needs torch), ``"identity"`` (the
            features already share one space, e.g. CLIP embeddings).
        latent_dim, hidden, tau, supervised, epochs, lr, batch_size: latent-space training.
        loss_form, include_self: contrastive loss form (``paper`` or ``ntxent``) and eq. 8's ``j = i`` term.
        seed: seed of head initialisation, training and mixtures.
        device: torch device for the projection heads.
    """

    def __init__(self, n_mix: int | None = None, attention_tau: float = 0.1, criterion: str = "bic",
                 max_components: int = 16, latent: str = "learned", latent_dim: int = 64, hidden: int = 256,
                 tau: float = 0.1, supervised: bool = False, epochs: int = 100, lr: float = 1e-3,
                 batch_size: int = 64, seed: int = 0, device: str = "cpu", weighting: str = "paper",
                 normalise: bool = True, covariance_type: str = "full", reg_covar: float = PAPER_REG_COVAR,
                 loss_form: str = "paper", include_self: bool = True, inter_sign: str = "abs") -> None:
        if latent not in LATENT_MODES:
            raise ValueError(f"latent must be one of {LATENT_MODES}, got {latent!r}")
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        self.n_mix = None if n_mix is None else int(n_mix)
        self.attention_tau = float(attention_tau)
        self.weighting, self.normalise = weighting, bool(normalise)
        self.covariance_type, self.reg_covar = covariance_type, float(reg_covar)
        self.loss_form, self.include_self = loss_form, bool(include_self)
        self.inter_sign = inter_sign
        self.criterion, self.max_components, self.latent = criterion, int(max_components), latent
        self.latent_dim, self.hidden, self.tau, self.supervised = int(latent_dim), int(hidden), float(tau), supervised
        self.epochs, self.lr, self.batch_size, self.seed = int(epochs), float(lr), int(batch_size), int(seed)
        self.device = device
        self.space: Any = None
        self.history_: list[float] = []

    # -- fitting --------------------------------------------------------
    def fit(self, teacher_features: Any, student_features: Any, labels: Sequence[Any] | None = None) -> CMDA:
        """Learn the latent space and the teacher-modality clusters from ``N`` paired feature rows."""
        ft = np.asarray(teacher_features, dtype=np.float64)
        fs = np.asarray(student_features, dtype=np.float64)
        if ft.ndim != 2 or fs.ndim != 2 or ft.shape[0] != fs.shape[0]:
            raise ValueError(f"need N x d teacher and N x d' student features, got {ft.shape} and {fs.shape}")
        if ft.shape[0] < 2:
            raise ValueError(f"CMDA needs at least two paired samples, got {ft.shape[0]}")
        if self.latent == "learned":
            from .heads import LatentSpace

            self.space = LatentSpace(ft.shape[1], fs.shape[1], self.latent_dim, self.hidden, self.tau,
                                     self.supervised, seed=self.seed, device=self.device,
                                     loss_form=self.loss_form, include_self=self.include_self)
            self.history_ = self.space.fit(ft, fs, labels if self.supervised else None, epochs=self.epochs,
                                           lr=self.lr, batch_size=self.batch_size, seed=self.seed)
        elif ft.shape[1] != fs.shape[1]:
            raise ValueError(f"latent={self.latent!r} needs features of one size, got {ft.shape[1]} and {fs.shape[1]}")
        self.teacher_latents_ = self.encode_teacher(ft)
        self.student_latents_ = self.encode_student(fs)
        self.clusters_: ClusterModel = select_gmm(self.student_latents_, self.max_components, self.criterion,
                                                  self.covariance_type, seed=self.seed, reg_covar=self.reg_covar)
        self.labels_ = self.clusters_.predict(self.student_latents_)
        self.resp_ = self.clusters_.responsibilities(self.student_latents_)
        return self

    def _normalise(self, x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    def encode_teacher(self, features: Any) -> np.ndarray:
        """Teacher features -> latents."""
        x = np.asarray(features, dtype=np.float64)
        return self.space.encode("teacher", x) if self.latent == "learned" else self._normalise(x)

    def encode_student(self, features: Any) -> np.ndarray:
        """Student features -> latents."""
        x = np.asarray(features, dtype=np.float64)
        return self.space.encode("student", x) if self.latent == "learned" else self._normalise(x)

    def predict_clusters(self, latents: Any) -> np.ndarray:
        """Student-modality cluster of each latent (student latents; a teacher latent where no student exists)."""
        return self.clusters_.predict(np.asarray(latents, dtype=np.float64))

    # -- generation -----------------------------------------------------
    def generate(self, rng: np.random.Generator, values: Any = None, n_per_teacher: int = 1,
                 anchors: Any = None, exclude: Any = None, anchor_students: Any = None) -> Generated:
        """New student samples.

        Args:
            rng: source of the candidate draws.
            values: ``N x ...`` student samples of the fitted pairs to combine: raw
                arrays (images) or ``None`` for the student latents (latent space).
            n_per_teacher: new samples per anchor.
            anchors: ``A x d`` teacher LATENTS to generate for (default: every fitted teacher,
                each excluding its own pair).
            exclude: per anchor, a fitted index never used for it (-1 for none).
            anchor_students: ``A x d`` student latents of the anchors' own pairs (eq. 11's
                ``x_i``); default: the fitted ones, or for new anchors their teacher latent
                (both live in the common space).
        """
        if not hasattr(self, "clusters_"):
            raise RuntimeError("call fit() before generate()")
        if anchors is None:
            anchors = self.teacher_latents_
            anchor_students = self.student_latents_ if anchor_students is None else anchor_students
            exclude = np.arange(anchors.shape[0]) if exclude is None else exclude
        vals = self.student_latents_ if values is None else values
        return self._generate(rng, np.atleast_2d(np.asarray(anchors, dtype=np.float64)), vals, n_per_teacher,
                              exclude, anchor_students)

    def plan(self, rng: np.random.Generator, anchors: Any, n_per_teacher: int = 1, exclude: Any = None,
             anchor_students: Any = None) -> Generated:
        """Weights and contributors only (for values that are combined elsewhere, e.g. PIL images)."""
        return self._generate(rng, np.atleast_2d(np.asarray(anchors, dtype=np.float64)), None, n_per_teacher,
                              exclude, anchor_students)

    def _generate(self, rng: np.random.Generator, anchors: np.ndarray, values: Any, n_per_teacher: int,
                  exclude: Any, anchor_students: Any) -> Generated:
        own = anchors if anchor_students is None else np.atleast_2d(np.asarray(anchor_students, dtype=np.float64))
        if self.weighting == "softmax":
            return generate(anchors, self.teacher_latents_, self.student_latents_, values, self.labels_,
                            n_per_teacher, rng, n_mix=self.n_mix or 4, tau=self.attention_tau,
                            anchor_clusters=self.predict_clusters(own), exclude=exclude)
        return generate_paper(anchors, self.clusters_.responsibilities(own), self.student_latents_, self.labels_,
                              values, n_per_teacher, rng, n_mix=self.n_mix, exclude=exclude,
                              normalise=self.normalise, sign=self.inter_sign)


__all__ = ["CMDA", "LATENT_MODES", "WEIGHTINGS"]
