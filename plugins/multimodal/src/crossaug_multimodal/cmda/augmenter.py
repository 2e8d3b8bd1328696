"""CMDA on arrays: learn the latent space, cluster, generate (batch API for precomputed features).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centers = rng.normal(size=(2, 4))
    >>> ft = np.repeat(centers, 10, axis=0) + 0.05 * rng.normal(size=(20, 4))
    >>> fs = ft + 0.05 * rng.normal(size=(20, 4))   # precomputed, already aligned (e.g. CLIP)
    >>> raw = rng.integers(0, 255, size=(20, 8, 8, 3)).astype(np.uint8)
    >>> cmda = CMDA(latent="identity", max_components=3).fit(ft, fs)
    >>> out = cmda.generate(np.random.default_rng(1), values=raw, n_per_teacher=2)
    >>> out.values.shape, out.values.dtype.name, cmda.clusters_.n_components
    ((40, 8, 8, 3), 'uint8', 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .clustering import ClusterModel, select_gmm
from .interpolation import Generated, generate

LATENT_MODES = ("learned", "identity")


class CMDA:
    """Cross-modal data augmentation (CMDA) on feature arrays.

    ``fit`` learns the common latent space from paired teacher/student features
    (torch projection heads, offline mode) and clusters the teacher latents with a
    BIC/AIC-selected Gaussian mixture; ``generate`` makes ``n_per_teacher`` new
    student samples per teacher anchor as Double-Cross-Attention-weighted
    combinations of the student samples paired with the anchor's cluster mates.

    Args:
        n_mix: candidate pairs combined per new sample.
        attention_tau: temperature of the Double Cross-Attention (eq. 11).
        criterion: ``"bic"`` (paper) or ``"aic"`` for the mixture size.
        max_components: largest mixture tried.
        latent: ``"learned"`` (projection heads, needs torch), ``"identity"`` (the
            features already share one space, e.g. CLIP embeddings).
        latent_dim, hidden, tau, supervised, epochs, lr, batch_size: latent-space training.
        seed: seed of head initialisation, training and mixtures.
        device: torch device for the projection heads.
    """

    def __init__(self, n_mix: int = 4, attention_tau: float = 0.1, criterion: str = "bic",
                 max_components: int = 16, latent: str = "learned", latent_dim: int = 64, hidden: int = 256,
                 tau: float = 0.1, supervised: bool = False, epochs: int = 100, lr: float = 1e-3,
                 batch_size: int = 64, seed: int = 0, device: str = "cpu") -> None:
        if latent not in LATENT_MODES:
            raise ValueError(f"latent must be one of {LATENT_MODES}, got {latent!r}")
        self.n_mix, self.attention_tau = int(n_mix), float(attention_tau)
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
                                     self.supervised, seed=self.seed, device=self.device)
            self.history_ = self.space.fit(ft, fs, labels if self.supervised else None, epochs=self.epochs,
                                           lr=self.lr, batch_size=self.batch_size, seed=self.seed)
        elif ft.shape[1] != fs.shape[1]:
            raise ValueError(f"latent={self.latent!r} needs features of one size, got {ft.shape[1]} and {fs.shape[1]}")
        self.teacher_latents_ = self.encode_teacher(ft)
        self.student_latents_ = self.encode_student(fs)
        self.clusters_: ClusterModel = select_gmm(self.teacher_latents_, self.max_components, self.criterion,
                                                  seed=self.seed)
        self.labels_ = self.clusters_.predict(self.teacher_latents_)
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

    def predict_clusters(self, teacher_latents: Any) -> np.ndarray:
        """Cluster of each teacher latent."""
        return self.clusters_.predict(np.asarray(teacher_latents, dtype=np.float64))

    # -- generation -----------------------------------------------------
    def generate(self, rng: np.random.Generator, values: Any = None, n_per_teacher: int = 1,
                 anchors: Any = None, exclude: Any = None) -> Generated:
        """New student samples.

        Args:
            rng: source of the candidate draws.
            values: ``N x ...`` student samples of the fitted pairs to combine: raw
                arrays (images) or ``None`` for the student latents (latent space).
            n_per_teacher: new samples per anchor.
            anchors: ``A x d`` teacher LATENTS to generate for (default: every fitted teacher,
                each excluding its own pair).
            exclude: per anchor, a fitted index never used for it (-1 for none).
        """
        if not hasattr(self, "clusters_"):
            raise RuntimeError("call fit() before generate()")
        if anchors is None:
            anchors = self.teacher_latents_
            anchor_clusters = self.labels_
            exclude = np.arange(anchors.shape[0]) if exclude is None else exclude
        else:
            anchors = np.atleast_2d(np.asarray(anchors, dtype=np.float64))
            anchor_clusters = self.predict_clusters(anchors)
        vals = self.student_latents_ if values is None else values
        return generate(anchors, self.teacher_latents_, self.student_latents_, vals, self.labels_,
                        n_per_teacher, rng, n_mix=self.n_mix, tau=self.attention_tau,
                        anchor_clusters=anchor_clusters, exclude=exclude)

    def plan(self, rng: np.random.Generator, anchors: Any, n_per_teacher: int = 1, exclude: Any = None) -> Generated:
        """Weights and contributors only (for values that are combined elsewhere, e.g. PIL images)."""
        anchors = np.atleast_2d(np.asarray(anchors, dtype=np.float64))
        return generate(anchors, self.teacher_latents_, self.student_latents_, None, self.labels_,
                        n_per_teacher, rng, n_mix=self.n_mix, tau=self.attention_tau,
                        anchor_clusters=self.predict_clusters(anchors), exclude=exclude)


__all__ = ["CMDA", "LATENT_MODES"]
