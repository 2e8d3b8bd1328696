"""XmDA's cross-modality mixup of aligned sign-video features and gloss embeddings (pure numpy).

The visual features ``v`` and the gloss embeddings ``g`` of one sentence are aligned
token by token (``[T, d]`` each; XmDA aligns them with the CTC gloss predictions). With
mixup ratio ``lam`` and ``u_t`` uniform in ``[0, 1)``:

    m_t = g_t if u_t < lam else v_t

so about a ``lam`` share of the visual tokens is replaced by the gloss embedding at the
same position; the translation model is trained on ``m`` next to ``v`` so that the two
representations meet.

Example:
    >>> import numpy as np
    >>> mixed, from_gloss = cross_modality_mixup(np.zeros((3, 2)), np.ones((3, 2)), 0.5, u=np.array([0.2, 0.7, 0.4]))
    >>> mixed[:, 0].tolist(), from_gloss.tolist()
    ([1.0, 0.0, 1.0], [True, False, True])
"""

from __future__ import annotations

import numpy as np
from crossaug import ConfigError


def cross_modality_mixup(visual: np.ndarray, gloss: np.ndarray, lam: float, *, u: np.ndarray | None = None,
                         rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mix aligned ``[T, d]`` visual and gloss sequences; returns ``(mixed, from_gloss [T] bool)``.

    Args:
        visual: sign-video features.
        gloss: gloss embeddings of the same width and length.
        lam: probability that a token comes from the gloss sequence.
        u: the uniform draws (``[T]``); else drawn from ``rng``.
        rng: numpy generator used when ``u`` is not given.
    """
    v = np.asarray(visual, dtype=np.float64)
    g = np.asarray(gloss, dtype=np.float64)
    if v.ndim != 2 or v.shape != g.shape:
        raise ConfigError(f"cross-modality mixup needs aligned [T, d] sequences of one shape, got {v.shape} "
                          f"and {g.shape}")
    if not 0.0 <= lam <= 1.0:
        raise ConfigError(f"mixup ratio must lie in [0, 1], got {lam}")
    if u is None:
        if rng is None:
            raise ConfigError("cross-modality mixup needs the uniform draws u or a generator rng")
        u = rng.random(v.shape[0])
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (v.shape[0],):
        raise ConfigError(f"u has shape {u.shape}; expected ({v.shape[0]},)")
    from_gloss = u < lam
    return np.where(from_gloss[:, None], g, v), from_gloss


__all__ = ["cross_modality_mixup"]
