"""TMMDA's cross-modal token mixup over aligned modality sequences (pure numpy).

The sequences of one clip (language, vision, acoustic) are aligned word by word, so
token ``t`` of every modality describes the same moment. The mixed sequence takes, at
each position, the token of one modality: with probability ``p_second`` the token of the
second modality, with probability ``p_third`` the token of the third, else the token of
the first (the base). With ``u_t`` uniform in ``[0, 1)``:

    source_t = 1 if u_t < p_second; 2 if p_second <= u_t < p_second + p_third; else 0
    m_t      = x^{(source_t)}_t

The survey describes this as "two fixed probability hyperparameters choose token
embeddings from the other modality sequences"; the equations of the paper are figures
in our copy, so this form is our reading of it (see docs/fidelity.md).

Example:
    >>> import numpy as np
    >>> lang, vis, ac = np.zeros((3, 2)), np.ones((3, 2)), np.full((3, 2), 2.0)
    >>> mixed, source = token_mixup([lang, vis, ac], 0.3, 0.3, u=np.array([0.1, 0.5, 0.9]))
    >>> mixed[:, 0].tolist(), source.tolist()
    ([1.0, 2.0, 0.0], [1, 2, 0])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from crossaug import ConfigError


def mixup_sources(u: np.ndarray, p_second: float, p_third: float) -> np.ndarray:
    """Index of the modality each token comes from, given uniform draws ``u`` (``[T]``)."""
    if not (0.0 <= p_second and 0.0 <= p_third and p_second + p_third <= 1.0):
        raise ConfigError(f"token mixup needs p_second, p_third >= 0 with p_second + p_third <= 1, "
                          f"got {p_second} and {p_third}")
    u = np.asarray(u, dtype=np.float64)
    return np.where(u < p_second, 1, np.where(u < p_second + p_third, 2, 0)).astype(np.int64)


def token_mixup(sequences: Sequence[np.ndarray], p_second: float, p_third: float, *,
                u: np.ndarray | None = None, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mix three aligned ``[T, d]`` sequences token by token; returns ``(mixed [T, d], source [T])``.

    Args:
        sequences: (base, second, third) sequences of equal shape.
        p_second, p_third: probabilities that a token comes from the second / third sequence.
        u: the uniform draws (``[T]``); else drawn from ``rng``.
        rng: numpy generator used when ``u`` is not given.
    """
    if len(sequences) != 3:
        raise ConfigError(f"token mixup takes three aligned sequences, got {len(sequences)}")
    seqs = [np.asarray(s, dtype=np.float64) for s in sequences]
    shape = seqs[0].shape
    if len(shape) != 2 or any(s.shape != shape for s in seqs):
        raise ConfigError(f"token mixup needs three [T, d] sequences of one shape, got "
                          f"{[tuple(s.shape) for s in seqs]}")
    if u is None:
        if rng is None:
            raise ConfigError("token mixup needs the uniform draws u or a generator rng")
        u = rng.random(shape[0])
    u = np.asarray(u, dtype=np.float64)
    if u.shape != (shape[0],):
        raise ConfigError(f"u has shape {u.shape}; expected ({shape[0]},)")
    source = mixup_sources(u, p_second, p_third)
    stacked = np.stack(seqs)  # [3, T, d]
    return stacked[source, np.arange(shape[0])], source


__all__ = ["token_mixup", "mixup_sources"]
