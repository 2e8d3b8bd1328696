"""CMDA Double Cross-Attention weights (eq. 11), row-normalised.

For teacher-modality latents ``T`` (``m x d``) and student-modality latents ``S``
(``n x d``) in the common space, two cross-attentions are computed:

* teacher -> student: ``A = softmax_rows(T S^T / tau)`` (``m x n``): how well each
  student sample matches teacher ``i`` among the students;
* student -> teacher: ``B = softmax_rows(S T^T / tau)`` (``n x m``): how well
  teacher ``i`` matches student ``j`` among the teachers.

The double cross-attention score keeps a student only where both directions
agree, ``W_ij = A_ij * B_ji``, and each row is normalised to sum to one,
``W_ij / sum_j' A_ij' B_j'i`` (the product of two softmaxes is not normalised by
itself). Rows are therefore convex weights, and any combination they make
(eq. 10) lies in the convex hull of the combined samples.

Example:
    >>> import numpy as np
    >>> t = np.array([[1.0, 0.0], [0.0, 1.0]]); s = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    >>> w = double_cross_attention(t, s, tau=0.5)
    >>> w.shape, np.allclose(w.sum(axis=1), 1.0), bool(w[0, 0] > w[0, 2])
    ((2, 3), True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


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
    """Row-normalised double cross-attention weights ``W`` (eq. 11), batched.

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
    """Eq. 11 with plain Python loops over one ``m x d`` / ``n x d`` pair (reference and baseline)."""
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


__all__ = ["softmax", "double_cross_attention", "double_cross_attention_loop"]
