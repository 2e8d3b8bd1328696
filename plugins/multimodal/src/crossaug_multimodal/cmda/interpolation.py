"""CMDA interpolation: new student-modality samples as weighted combinations (eq. 10/11).

:func:`generate_paper` (default): for a teacher anchor ``z_t`` and ALL ``m'``
other fitted pairs as candidates (the paper's sum runs over every student
sample; ``n_mix`` draws a random subset instead, needed for several different
outputs per anchor), the weights are eq. 10 times eq. 11
(:func:`~crossaug_multimodal.cmda.weights.paper_weights`) and the new sample is
``sum_j w_j x_j``, where ``x_j`` is the student sample in raw space (images:
pixels) or in the latent space (text).

:func:`generate` is the softmax variant (``weighting="softmax"``): ``n_mix``
candidates drawn from the anchor's cluster, weighted by the row-normalised
double cross-attention of :func:`~crossaug_multimodal.cmda.weights.double_cross_attention`.

Example:
    >>> import numpy as np
    >>> lat = np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])
    >>> vals = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> resp = np.array([[1.0], [1.0], [1.0]])   # one cluster: eq. 11 is 2 everywhere
    >>> out = generate_paper(lat[:1], resp[:1], lat, np.zeros(3, int), vals, exclude=np.array([0]))
    >>> out.contributors.tolist(), out.weights.round(4).tolist()  # 0.8 / 1.4 and 0.6 / 1.4
    ([[1, 2]], [[0.5714, 0.4286]])
    >>> out.values.round(4).tolist()
    [[0.5714, 0.4286]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .weights import double_cross_attention, double_cross_attention_loop, paper_weights


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
    """Softmax-variant weights of one anchor over its candidates: row 0 of the DCA on ``[anchor; cand_teacher]``."""
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


def draw_from_all(n_anchors: int, n: int, n_per_teacher: int, n_mix: int | None,
                  rng: np.random.Generator | None, exclude: Any = None) -> np.ndarray:
    """Candidate indices (``R x k``, ``-1`` padded) over ALL ``n`` fitted pairs but each anchor's own.

    ``n_mix=None``: every candidate (``k = n``, the paper's ``m'``); otherwise ``n_mix``
    drawn without replacement from ``rng`` for each output.
    """
    pools = []
    for i in range(n_anchors):
        own = int(exclude[i]) if exclude is not None else -1
        pools.append(np.array([j for j in range(n) if j != own], dtype=np.int64))
    width = max((p.size for p in pools), default=0) if n_mix is None else n_mix
    rows = []
    for pool in pools:
        for _ in range(n_per_teacher):
            row = np.full(width, -1, dtype=np.int64)
            if n_mix is None:
                row[:pool.size] = pool
            elif pool.size:
                assert rng is not None, "n_mix draws need an rng"
                take = np.sort(rng.choice(pool, size=min(n_mix, pool.size), replace=False))
                row[:take.size] = take
            rows.append(row)
    return np.array(rows, dtype=np.int64).reshape(-1, width)


def generate_paper(anchor_teacher: Any, anchor_resp: Any, student: Any, student_clusters: Any, values: Any,
                   n_per_teacher: int = 1, rng: np.random.Generator | None = None, n_mix: int | None = None,
                   exclude: Any = None, normalise: bool = True, sign: str = "abs") -> Generated:
    """Eq. 10 x eq. 11 generation, vectorised over anchors.

    Args:
        anchor_teacher: ``A x d`` teacher latents of the anchors (``z_t``).
        anchor_resp: ``A x M`` GMM responsibilities of each anchor's own student sample (eq. 11's ``r_i``).
        student: ``N x d`` student latents of the fitted pairs (``z_hat_j``).
        student_clusters: ``N`` cluster of each fitted student (``c_j``).
        values: ``N x ...`` student samples to combine (raw images or latents), or ``None``.
        n_per_teacher: new samples per anchor (needs ``n_mix`` when > 1: with every
            candidate the outputs would be identical).
        rng: source of the candidate draws (only with ``n_mix``).
        n_mix: ``None`` for all candidates (paper) or how many to draw per output.
        exclude: per anchor, a fitted index never used for it (its own pair), or -1.
        normalise: divide the weights by their sum (see :mod:`.weights`).
        sign: eq. 10's dot products as printed (``paper``), absolute (``abs``, reference code) or clipped.
    """
    anchors = np.atleast_2d(np.asarray(anchor_teacher, dtype=np.float64))
    resp = np.atleast_2d(np.asarray(anchor_resp, dtype=np.float64))
    student = np.asarray(student, dtype=np.float64)
    clusters = np.asarray(student_clusters, dtype=np.int64)
    if n_mix is None and n_per_teacher > 1:
        raise ValueError("with every candidate (n_mix=None) all outputs of an anchor are the same; "
                         "set n_mix to draw a random subset per output")
    idx = draw_from_all(anchors.shape[0], student.shape[0], n_per_teacher, n_mix, rng, exclude)
    mask = idx >= 0
    safe = np.where(mask, idx, 0)
    teacher_index = np.repeat(np.arange(anchors.shape[0]), n_per_teacher)
    w = paper_weights(anchors[teacher_index], student[safe], resp[teacher_index],
                      np.where(mask, clusters[safe], 0), mask=mask, normalise=normalise, sign=sign)
    if values is None:
        return Generated(None, w, idx, teacher_index)
    x = np.asarray(values)
    dense = np.zeros((idx.shape[0], x.shape[0]), dtype=np.float64)
    np.add.at(dense, (np.repeat(np.arange(idx.shape[0]), idx.shape[1])[mask.ravel()], idx[mask]), w[mask])
    out = (dense @ x.reshape(x.shape[0], -1).astype(np.float64)).reshape((idx.shape[0],) + x.shape[1:])
    if x.dtype == np.uint8:
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return Generated(out, w, idx, teacher_index)


def generate(anchor_teacher: Any, teacher: Any, student: Any, values: Any, clusters: Any,
             n_per_teacher: int, rng: np.random.Generator, n_mix: int = 4, tau: float = 1.0,
             anchor_clusters: Any = None, exclude: Any = None) -> Generated:
    """Softmax-variant generation (vectorised over anchors): ``n_mix`` cluster mates, eq. 11 softmaxes.

    Args:
        anchor_teacher: ``A x d`` teacher latents of the anchors.
        teacher, student: ``N x d`` latents of the ``N`` paired candidates.
        values: ``N x ...`` student samples to combine (raw images or latents), or
            ``None`` to get only the weights and contributors.
        clusters: ``N`` cluster of each candidate (candidates come from the anchor's cluster).
        n_per_teacher: new samples per anchor.
        rng: source of the candidate draws.
        n_mix: candidates combined per new sample.
        tau: attention temperature of the softmaxes.
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


__all__ = ["combine", "anchor_weights", "draw_candidates", "draw_from_all", "generate_paper", "generate",
           "generate_loop", "Generated"]
