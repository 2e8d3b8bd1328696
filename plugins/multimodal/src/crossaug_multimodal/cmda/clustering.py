"""CMDA intra-modal clustering: a Gaussian mixture whose size is chosen by BIC or AIC.

The STUDENT modality's latent vectors are clustered (paper, Sec. III and
Algorithm 1, line 5-6) with Gaussian mixtures of ``1..max_components`` components
(scikit-learn ``GaussianMixture``, EM); the model with the lowest Bayesian (or
Akaike) information criterion wins (Sec. IV-C). EM settings follow Sec. IV-C:
100 iterations, convergence threshold 1e-3, 1e-6 added to the covariance
diagonal; the covariance is full (the paper's ``O(m M d^3)`` cost is that of full
covariances). Its responsibilities give the eq. 11 intra-modal weights.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(c, 0.1, size=(30, 2)) for c in (0.0, 3.0, 6.0)])
    >>> select_gmm(x, max_components=5).n_components
    3
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CRITERIA = ("bic", "aic")


@dataclass
class ClusterModel:
    """The chosen mixture and the criterion value of every candidate size."""

    model: Any
    n_components: int
    criterion: str
    scores: dict[int, float] = field(default_factory=dict)

    def predict(self, x: Any) -> np.ndarray:
        """Cluster index of each row of ``x``."""
        return self.model.predict(np.asarray(x, dtype=np.float64))

    def responsibilities(self, x: Any) -> np.ndarray:
        """``r(c) = alpha_c phi(x | theta_c) / sum_h alpha_h phi(x | theta_h)`` for each row of ``x``."""
        return self.model.predict_proba(np.asarray(x, dtype=np.float64))


#: EM settings of the paper (Sec. IV-C)
PAPER_REG_COVAR = 1e-6
PAPER_MAX_ITER = 100
PAPER_TOL = 1e-3


def select_gmm(x: Any, max_components: int = 16, criterion: str = "bic", covariance_type: str = "full",
               seed: int = 0, n_init: int = 1, reg_covar: float = PAPER_REG_COVAR,
               max_iter: int = PAPER_MAX_ITER, tol: float = PAPER_TOL) -> ClusterModel:
    """Fit mixtures with ``1..max_components`` components and keep the best by ``criterion``.

    Args:
        x: ``N x d`` latent vectors of one modality.
        max_components: largest mixture tried (capped at the number of distinct rows).
        criterion: ``"bic"`` (paper) or ``"aic"``.
        covariance_type: scikit-learn covariance type (``full``, as the paper's cost implies;
            ``diag`` is cheaper and steadier on few samples in many dimensions).
        seed: random state of the mixtures.
        n_init: initialisations per size.
        reg_covar: added to the covariance diagonal (paper: 1e-6).
        max_iter, tol: EM iterations and convergence threshold (paper: 100, 1e-3).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"x must be N x d with N >= 1, got shape {x.shape}")
    distinct = np.unique(np.round(x, 9), axis=0).shape[0]
    top = max(1, min(int(max_components), distinct))
    best: tuple[float, Any, int] | None = None
    scores: dict[int, float] = {}
    for k in range(1, top + 1):
        gm = GaussianMixture(n_components=k, covariance_type=covariance_type, random_state=seed,
                             n_init=n_init, reg_covar=reg_covar, max_iter=max_iter, tol=tol)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                gm.fit(x)
            except ValueError:  # a component collapsed (too few points for a full covariance)
                if best is None:
                    raise
                break
        value = float(gm.bic(x) if criterion == "bic" else gm.aic(x))
        scores[k] = value
        if best is None or value < best[0]:
            best = (value, gm, k)
    assert best is not None
    return ClusterModel(best[1], best[2], criterion, scores)


__all__ = ["ClusterModel", "select_gmm", "CRITERIA", "PAPER_REG_COVAR", "PAPER_MAX_ITER", "PAPER_TOL"]
