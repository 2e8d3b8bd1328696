"""CMDA softmax-variant weights (double cross-attention) and interpolation: normalisation, convex hull, loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossaug_multimodal.cmda.augmenter import CMDA
from crossaug_multimodal.cmda.interpolation import anchor_weights, combine, generate, generate_loop
from crossaug_multimodal.cmda.weights import double_cross_attention, double_cross_attention_loop


def test_hand_computed_weights() -> None:
    t = np.eye(2)
    s = np.eye(2)
    w = double_cross_attention(t, s, tau=1.0)
    # A row 0 = [e, 1]/(e+1); B^T column softmax gives [e/(e+1), 1/(e+1)] -> product ~ [e^2, 1]
    e2 = math.e ** 2
    assert w[0].tolist() == pytest.approx([e2 / (e2 + 1), 1 / (e2 + 1)])
    assert w[1].tolist() == pytest.approx([1 / (e2 + 1), e2 / (e2 + 1)])


def test_rows_sum_to_one_and_non_negative() -> None:
    rng = np.random.default_rng(0)
    w = double_cross_attention(rng.normal(size=(5, 3)), rng.normal(size=(7, 3)), tau=0.3)
    assert w.shape == (5, 7)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert (w >= 0).all()


def test_product_of_softmaxes_is_not_normalised_by_itself() -> None:
    rng = np.random.default_rng(3)
    t, s = rng.normal(size=(4, 3)), rng.normal(size=(6, 3))
    logits = t @ s.T
    a = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    b_t = np.exp(logits) / np.exp(logits).sum(0, keepdims=True)
    raw = a * b_t
    assert not np.allclose(raw.sum(1), 1.0)
    assert np.allclose(double_cross_attention(t, s, 1.0), raw / raw.sum(1, keepdims=True))


def test_vectorised_matches_loop_reference() -> None:
    rng = np.random.default_rng(1)
    t, s = rng.normal(size=(4, 5)), rng.normal(size=(6, 5))
    assert np.allclose(double_cross_attention(t, s, 0.5), np.array(double_cross_attention_loop(t, s, 0.5)))


def test_masks_give_padding_zero_weight() -> None:
    rng = np.random.default_rng(2)
    t, s = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 3, 2))
    smask = np.array([[True, True, False], [True, True, True], [True, False, False]])
    tmask = np.array([[True, True, True, False], [True] * 4, [True, True, False, False]])
    w = double_cross_attention(t, s, 1.0, teacher_mask=tmask, student_mask=smask)
    assert np.allclose(w[~smask[:, None, :].repeat(4, 1)], 0.0)
    # a masked batch equals the unpadded computation
    ref = double_cross_attention(t[0, :3], s[0, :2], 1.0)
    assert np.allclose(w[0, :3, :2], ref)
    assert np.allclose(w[2, :2, :1], 1.0)


def in_convex_hull(point: np.ndarray, points: np.ndarray) -> bool:
    from scipy.optimize import linprog

    n = points.shape[0]
    a_eq = np.vstack([points.T, np.ones((1, n))])
    b_eq = np.concatenate([point, [1.0]])
    res = linprog(np.zeros(n), A_eq=a_eq, b_eq=b_eq, bounds=[(0, None)] * n, method="highs")
    return bool(res.success)


def test_generated_samples_lie_in_convex_hull() -> None:
    rng = np.random.default_rng(4)
    n = 30
    teacher = rng.normal(size=(n, 3))
    student = teacher + 0.1 * rng.normal(size=(n, 3))
    values = rng.normal(size=(n, 2))
    clusters = np.arange(n) % 3
    out = generate(teacher, teacher, student, values, clusters, n_per_teacher=3,
                   rng=np.random.default_rng(0), n_mix=4, tau=0.5, exclude=np.arange(n))
    assert out.values.shape == (3 * n, 2)
    assert np.allclose(out.weights.sum(axis=1), 1.0) and (out.weights >= 0).all()
    for r in range(out.values.shape[0]):
        idx = out.contributors[r][out.contributors[r] >= 0]
        anchor = out.teacher_index[r]
        assert anchor not in idx                       # own pair excluded
        assert set(clusters[idx]) == {clusters[anchor]}  # same teacher cluster
        assert np.allclose(out.values[r], out.weights[r][: idx.size] @ values[idx])
        assert in_convex_hull(out.values[r], values[idx])
    # far outside point is not in the hull (the check can fail)
    assert not in_convex_hull(np.array([100.0, 100.0]), values[:4])


def test_generate_matches_per_sample_loop() -> None:
    rng = np.random.default_rng(5)
    n = 12
    teacher, student = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    values = rng.integers(0, 256, size=(n, 4, 4, 3)).astype(np.uint8)
    out = generate(teacher, teacher, student, values, np.zeros(n, int), 2, np.random.default_rng(1),
                   n_mix=5, tau=0.2, exclude=np.arange(n))
    loop = generate_loop(teacher[out.teacher_index], teacher, student, values, out.contributors, tau=0.2)
    assert out.values.dtype == np.uint8
    assert all(np.array_equal(a, b) for a, b in zip(out.values, loop, strict=True))


def test_small_cluster_pads_and_falls_back() -> None:
    teacher = np.eye(3)
    out = generate(teacher, teacher, teacher, teacher, np.array([0, 1, 1]), 1, np.random.default_rng(0),
                   n_mix=4, exclude=np.arange(3))
    # anchor 0 is alone in its cluster: any other pair is used; anchors 1, 2 have one mate each
    assert set(out.contributors[0][out.contributors[0] >= 0]) == {1, 2}
    assert out.contributors[1].tolist() == [2, -1, -1, -1]
    assert out.weights[1].tolist() == pytest.approx([1.0, 0.0, 0.0, 0.0])


def test_anchor_weights_and_combine() -> None:
    w = anchor_weights(np.array([1.0, 0.0]), np.eye(2), np.eye(2), tau=1.0)
    e2 = math.e ** 2
    # teachers [anchor, t1, t2] = [e1, e1, e2]: A row 0 = [e, 1]/(e + 1); B^T column 0 = e/(2e + 1),
    # column 1 = 1/(e + 2) -> weights proportional to [e^2/(2e + 1), 1/(e + 2)]
    a, b = e2 / (2 * math.e + 1), 1 / (math.e + 2)
    assert w.tolist() == pytest.approx([a / (a + b), b / (a + b)])
    assert combine([[0.25, 0.75]], np.array([[0], [200]], np.uint8)).tolist() == [[150]]


def test_cmda_on_precomputed_features_identity_space() -> None:
    rng = np.random.default_rng(6)
    centers = np.array([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0]])
    feats = np.repeat(centers, 10, axis=0) + 0.2 * rng.normal(size=(30, 3))
    cmda = CMDA(latent="identity", max_components=5, n_mix=3, weighting="softmax").fit(
        feats, feats + 0.1 * rng.normal(size=(30, 3)))
    assert cmda.clusters_.n_components == 3
    out = cmda.generate(np.random.default_rng(0), n_per_teacher=2)   # latent-space student samples
    assert out.values.shape == (60, 3)
    labels = cmda.labels_
    for r in range(60):
        idx = out.contributors[r][out.contributors[r] >= 0]
        assert set(labels[idx]) == {labels[out.teacher_index[r]]}


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="tau"):
        double_cross_attention(np.eye(2), np.eye(2), tau=0)
    with pytest.raises(ValueError, match="teacher and student"):
        double_cross_attention(np.eye(2), np.ones((2, 3)))
    with pytest.raises(ValueError, match="latent"):
        CMDA(latent="pca")
    with pytest.raises(ValueError, match="one size"):
        CMDA(latent="identity").fit(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(RuntimeError, match="fit"):
        CMDA().generate(np.random.default_rng(0))
