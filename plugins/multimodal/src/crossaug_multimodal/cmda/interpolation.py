"""CMDA interpolation: new student-modality samples as weighted combinations (eq. 10/11).

For a teacher anchor ``t`` and ``m`` candidate pairs ``(t_j, s_j)`` from the same
teacher-modality cluster, the weights are row 0 of the Double Cross-Attention
(eq. 11) between the teachers ``[t, t_1..t_m]`` and the students ``s_1..s_m``;
the new student sample is ``sum_j w_j x_j`` (eq. 10), where ``x_j`` is the
student sample in raw space (images: pixels) or in the latent space (text).
Weights are convex, so every generated sample lies in the convex hull of its
candidates.

Example:
    >>> import numpy as np
    >>> vals = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> lat = np.eye(3)
    >>> out = generate(lat[:1], lat, lat, vals, clusters=np.zeros(3, int), n_per_teacher=2,
    ...                rng=np.random.default_rng(0), n_mix=2, exclude=np.array([0]))
    >>> out.values.shape, np.allclose(out.weights.sum(axis=1), 1.0), sorted(set(out.teacher_index.tolist()))
    ((2, 2), True, [0])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .weights import double_cross_attention, double_cross_attention_loop


def combine(weights: Any, values: Any) -> np.ndarray:
    """``sum_j w_ij x_j`` for each row of ``weights`` (``r x n``) over ``values`` (``n x ...``).

    uint8 values (images) are combined in float and rounded back to uint8.
    """
    w = np.asarray(weights, dtype=np.float64)
    x = np.asarray(values)
    out = np.tensordot(w, x.astype(np.float64), axes=([-1], [0]))
    if x.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out


def anchor_weights(anchor: Any, cand_teacher: Any, cand_student: Any, tau: float = 1.0) -> np.ndarray:
    """Weights of one anchor over its candidates: row 0 of eq. 11 on ``[anchor; cand_teacher]``."""
    t = np.vstack([np.asarray(anchor, dtype=np.float64)[None, :], np.asarray(cand_teacher, dtype=np.float64)])
    return double_cross_attention(t, cand_student, tau)[0]


@dataclass
class Generated:
    """Output of :func:`generate`: one row per new student sample."""

    values: np.ndarray | None
    weights: np.ndarray          # r x n_mix convex weights (0 on padding)
    contributors: np.ndarray     # r x n_mix candidate indices (-1 on padding)
    teacher_index: np.ndarray    # r: which anchor produced the row


def draw_candidates(anchor_clusters: Any, clusters: Any, n_per_teacher: int, n_mix: int,
                    rng: np.random.Generator, exclude: Any = None) -> np.ndarray:
    """Indices (``R x n_mix``, ``-1`` padded) of candidate pairs for each (anchor, k), drawn from ``rng``.

    Candidates are members of the anchor's cluster other than ``exclude[i]``; when
    the cluster has no other member, any other pair is used.
    """
    clusters = np.asarray(clusters)
    anchor_clusters = np.asarray(anchor_clusters)
    n = clusters.shape[0]
    rows = []
    for i, c in enumerate(anchor_clusters):
        pool = np.flatnonzero(clusters == c)
        if exclude is not None and exclude[i] >= 0:
            pool = pool[pool != exclude[i]]
            if pool.size == 0:
                pool = np.array([j for j in range(n) if j != exclude[i]], dtype=np.int64)
        for _ in range(n_per_teacher):
            row = np.full(n_mix, -1, dtype=np.int64)
            if pool.size:
                take = rng.choice(pool, size=min(n_mix, pool.size), replace=False)
                row[:take.size] = take
            rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(-1, n_mix)


def generate(anchor_teacher: Any, teacher: Any, student: Any, values: Any, clusters: Any,
             n_per_teacher: int, rng: np.random.Generator, n_mix: int = 4, tau: float = 1.0,
             anchor_clusters: Any = None, exclude: Any = None) -> Generated:
    """Batch CMDA generation (vectorised over anchors).

    Args:
        anchor_teacher: ``A x d`` teacher latents of the anchors.
        teacher, student: ``N x d`` latents of the ``N`` paired candidates.
        values: ``N x ...`` student samples to combine (raw images or latents), or
            ``None`` to get only the weights and contributors.
        clusters: ``N`` teacher-modality cluster of each candidate.
        n_per_teacher: new samples per anchor.
        rng: source of the candidate draws.
        n_mix: candidates combined per new sample.
        tau: attention temperature of eq. 11.
        anchor_clusters: cluster of each anchor (default: anchors are candidates 0..A-1).
        exclude: per anchor, a candidate index never used for it (its own pair), or -1.
    """
    anchors = np.asarray(anchor_teacher, dtype=np.float64)
    teacher = np.asarray(teacher, dtype=np.float64)
    student = np.asarray(student, dtype=np.float64)
    clusters = np.asarray(clusters)
    if anchor_clusters is None:
        anchor_clusters = clusters[:anchors.shape[0]]
    idx = draw_candidates(anchor_clusters, clusters, n_per_teacher, n_mix, rng, exclude)
    mask = idx >= 0
    safe = np.where(mask, idx, 0)
    teacher_index = np.repeat(np.arange(anchors.shape[0]), n_per_teacher)
    t = np.concatenate([anchors[teacher_index][:, None, :], teacher[safe]], axis=1)   # R x (1+m) x d
    t_mask = np.concatenate([np.ones((idx.shape[0], 1), bool), mask], axis=1)
    w = double_cross_attention(t, student[safe], tau, teacher_mask=t_mask, student_mask=mask)[:, 0, :]
    if values is None:
        return Generated(None, w, idx, teacher_index)
    x = np.asarray(values)
    stacked = x[safe].reshape(safe.shape[0], safe.shape[1], -1).astype(np.float64)   # R x m x D
    out = np.matmul(w[:, None, :], stacked)[:, 0, :].reshape((safe.shape[0],) + x.shape[1:])
    if x.dtype == np.uint8:
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return Generated(out, w, idx, teacher_index)


def generate_loop(anchor_teacher: Any, teacher: Any, student: Any, values: Any,
                  contributors: Any, tau: float = 1.0) -> list[np.ndarray]:
    """The same combination, one sample at a time with Python loops (baseline for benchmarks)."""
    out = []
    x = np.asarray(values)
    for a, row in zip(np.asarray(anchor_teacher), np.asarray(contributors), strict=True):
        row = [int(j) for j in row if j >= 0]
        t = [list(a)] + [list(teacher[j]) for j in row]
        w = double_cross_attention_loop(t, [list(student[j]) for j in row], tau)[0]
        acc = np.zeros(x.shape[1:], dtype=np.float64)
        for wj, j in zip(w, row, strict=True):
            acc += wj * x[j]
        out.append(np.clip(np.rint(acc), 0, 255).astype(np.uint8) if x.dtype == np.uint8 else acc)
    return out


__all__ = ["combine", "anchor_weights", "draw_candidates", "generate", "generate_loop", "Generated"]
