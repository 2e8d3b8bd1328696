"""CMDA interpolation weights: eq. 10 (inter-modal), eq. 11 (intra-modal) and a softmax variant.

For one teacher anchor ``z_t`` (latent of teacher sample ``i``) and ``m'``
candidate student samples with latents ``z_hat_j`` (the common space):

* eq. 10, inter-modal: ``w_inter_j = z_t . z_hat_j / sum_j' z_t . z_hat_j'``
  (plain dot products over their sum, no temperature). As printed
  (``sign="paper"``) a negative dot product gives a negative weight and the sum
  can vanish or turn negative, which happens with centred latents; the
  reference code takes absolute cosines (``torch.abs(torch.mm(z_j, z_i.t()))``
  in its ``trainers.py``), ``sign="abs"``; ``sign="clip"`` sets negative ones to 0;
* eq. 11, intra-modal (Double Cross-Attention): a Gaussian mixture is fitted to
  the STUDENT modality; with ``r_i(c) = alpha_c phi(x_i | theta_c) / sum_h alpha_h
  phi(x_i | theta_h)`` the responsibilities of the anchor's own student sample
  ``x_i``, ``c_j`` the cluster of candidate ``j`` and ``c_i`` that of ``x_i``,
  ``w_intra_ij = r_i(c_j) + r_i(c_i)``;
* the new sample is ``sum_j w_inter_j w_intra_ij x_hat_j`` (eq. 11 / Algorithm 1).

As printed, the products do not sum to one (their sum lies between the smallest
and largest ``w_intra``, up to 2), so a pixel mix would be brightened up to
twice; :func:`paper_weights` therefore divides by their sum (``normalise=True``,
our choice; ``False`` gives the printed values).

:func:`double_cross_attention` is the earlier variant kept as an option
(``weighting="softmax"``): the product of two temperature softmaxes
(teacher -> student and student -> teacher), row-normalised.

Example:
    >>> import numpy as np
    >>> inter_modal_weights([1.0, 0.0], [[1.0, 0.0], [0.5, 0.5], [0.5, -0.5]]).tolist()
    [0.5, 0.25, 0.25]
    >>> intra_modal_weights([0.75, 0.25], [0, 1, 1]).tolist()  # own cluster 0
    [1.5, 1.0, 1.0]
    >>> paper_weights([1.0, 0.0], [[1.0, 0.0], [0.5, 0.5], [0.5, -0.5]], [0.75, 0.25], [0, 1, 1]).round(4).tolist()
    [0.6, 0.2, 0.2]
    >>> t = np.array([[1.0, 0.0], [0.0, 1.0]]); s = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    >>> w = double_cross_attention(t, s, tau=0.5)
    >>> w.shape, np.allclose(w.sum(axis=1), 1.0), bool(w[0, 0] > w[0, 2])
    ((2, 3), True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SIGNS = ("paper", "abs", "clip")


def inter_modal_weights(anchor: Any, students: Any, mask: Any = None, sign: str = "paper") -> np.ndarray:
    """Eq. 10: ``z_t . z_hat_j / sum_j z_t . z_hat_j`` (batched over leading axes).

    Args:
        anchor: ``[..., d]`` teacher latent(s).
        students: ``[..., m, d]`` candidate student latents.
        mask: optional ``[..., m]`` booleans; ``False`` entries are padding (weight 0).
        sign: ``paper`` (as printed), ``abs`` (absolute dot products, reference code) or
            ``clip`` (negative dot products count 0).

    Raises:
        ValueError: when the dot products of a row sum to <= 0 (eq. 10 is undefined
            there; the latents point away from the anchor on average).
    """
    a = np.asarray(anchor, dtype=np.float64)
    s = np.asarray(students, dtype=np.float64)
    if s.ndim < 2 or a.shape[-1] != s.shape[-1]:
        raise ValueError(f"anchor and students must be [..., d] and [..., m, d], got {a.shape} and {s.shape}")
    if sign not in SIGNS:
        raise ValueError(f"sign must be one of {SIGNS}, got {sign!r}")
    dots = np.einsum("...d,...md->...m", a, s)
    if sign == "abs":
        dots = np.abs(dots)
    elif sign == "clip":
        dots = np.maximum(dots, 0.0)
    if mask is not None:
        dots = np.where(np.asarray(mask, bool), dots, 0.0)
    total = dots.sum(axis=-1, keepdims=True)
    if np.any(total <= 1e-12):
        raise ValueError("eq. 10 is undefined: the anchor's dot products with its candidates sum to "
                         f"{float(np.min(total)):.3g} <= 0; use inter_sign='abs' (reference code) or 'clip'")
    return dots / total


def intra_modal_weights(responsibilities: Any, clusters: Any, own_cluster: Any = None) -> np.ndarray:
    """Eq. 11: ``w_ij = r_i(c_j) + r_i(c_i)`` from the anchor's GMM responsibilities.

    Args:
        responsibilities: ``[..., M]`` ``r_i(c) = alpha_c phi(x_i|theta_c) / sum_h alpha_h phi(x_i|theta_h)``
            of the anchor's student sample ``x_i``.
        clusters: ``[..., m]`` cluster index ``c_j`` of each candidate.
        own_cluster: ``[...]`` cluster ``c_i`` of ``x_i`` (default: its most likely cluster).
    """
    r = np.asarray(responsibilities, dtype=np.float64)
    c = np.asarray(clusters, dtype=np.int64)
    if own_cluster is None:
        own_cluster = np.argmax(r, axis=-1)
    own = np.take_along_axis(r, np.asarray(own_cluster, dtype=np.int64)[..., None], axis=-1)
    safe = np.where(c >= 0, c, 0)
    return np.take_along_axis(r, safe, axis=-1) + own


def paper_weights(anchor: Any, students: Any, responsibilities: Any, clusters: Any, mask: Any = None,
                  normalise: bool = True, sign: str = "paper") -> np.ndarray:
    """``w_inter_j * w_intra_ij`` (eq. 10 times eq. 11), divided by their sum when ``normalise``."""
    w = inter_modal_weights(anchor, students, mask, sign) * intra_modal_weights(responsibilities, clusters)
    if mask is not None:
        w = np.where(np.asarray(mask, bool), w, 0.0)
    if normalise:
        w = w / w.sum(axis=-1, keepdims=True)
    return w


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax; ``-inf`` entries get weight 0."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    total = np.sum(e, axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def double_cross_attention(teacher: Any, student: Any, tau: float = 1.0, *,
                           teacher_mask: Any = None, student_mask: Any = None) -> np.ndarray:
    """Softmax variant of the weights (``weighting="softmax"``): double cross-attention, batched.

    Args:
        teacher: ``[..., m, d]`` teacher latents (queries of ``A``, keys of ``B``).
        student: ``[..., n, d]`` student latents.
        tau: attention temperature.
        teacher_mask, student_mask: optional ``[..., m]`` / ``[..., n]`` booleans;
            ``False`` entries are padding and get weight 0.

    Returns:
        ``[..., m, n]`` non-negative weights whose rows sum to 1.
    """
    t = np.asarray(teacher, dtype=np.float64)
    s = np.asarray(student, dtype=np.float64)
    if t.ndim < 2 or s.ndim < 2 or t.shape[-1] != s.shape[-1]:
        raise ValueError(f"teacher and student must be [..., m, d] and [..., n, d], got {t.shape} and {s.shape}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    logits = np.matmul(t, np.swapaxes(s, -1, -2)) / tau  # [..., m, n]
    if student_mask is not None:
        logits = np.where(np.asarray(student_mask, bool)[..., None, :], logits, -np.inf)
    if teacher_mask is not None:
        logits_t = np.where(np.asarray(teacher_mask, bool)[..., :, None], logits, -np.inf)
    else:
        logits_t = logits
    a = softmax(logits, axis=-1)        # teacher -> student, rows over students
    b_t = softmax(logits_t, axis=-2)    # student -> teacher (B^T), columns over teachers
    w = a * b_t
    total = w.sum(axis=-1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    if teacher_mask is not None:
        w = np.where(np.asarray(teacher_mask, bool)[..., :, None], w, 0.0)
    return w


def double_cross_attention_loop(teacher: Any, student: Any, tau: float = 1.0) -> list[list[float]]:
    """The softmax variant with plain Python loops over one ``m x d`` / ``n x d`` pair (reference and baseline)."""
    t = [list(map(float, row)) for row in np.asarray(teacher)]
    s = [list(map(float, row)) for row in np.asarray(student)]
    dot = [[sum(a * b for a, b in zip(ti, sj, strict=True)) / tau for sj in s] for ti in t]
    m, n = len(t), len(s)
    out = []
    for i in range(m):
        row_max = max(dot[i])
        a = [math.exp(dot[i][j] - row_max) for j in range(n)]
        a_sum = sum(a)
        w = []
        for j in range(n):
            col_max = max(dot[k][j] for k in range(m))
            b_den = sum(math.exp(dot[k][j] - col_max) for k in range(m))
            w.append((a[j] / a_sum) * (math.exp(dot[i][j] - col_max) / b_den))
        z = sum(w)
        out.append([v / z for v in w])
    return out


__all__ = ["SIGNS", "inter_modal_weights", "intra_modal_weights", "paper_weights", "softmax", "double_cross_attention",
           "double_cross_attention_loop"]
