"""CMDA eq. 10 (inter-modal) and eq. 11 (intra-modal, GMM responsibilities): hand values and plain loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossaug_multimodal.cmda.augmenter import CMDA
from crossaug_multimodal.cmda.clustering import select_gmm
from crossaug_multimodal.cmda.interpolation import generate_paper
from crossaug_multimodal.cmda.weights import inter_modal_weights, intra_modal_weights, paper_weights

ANCHOR = [1.0, 0.0]
SIX = [[1.0, 0.0], [0.8, 0.6], [0.6, 0.8], [0.0, 1.0], [0.6, -0.8], [-0.8, 0.6]]   # dots 1 .8 .6 0 .6 -.8
RESP = [0.7, 0.3]                                                                   # x_i is in cluster 0
CLUSTERS = [0, 0, 1, 1, 0, 1]


def test_six_candidates_by_hand() -> None:
    # eq. 10 as printed: dots / 2.2; eq. 11: r(c_j) + r(c_i) = [1.4 1.4 1.0 1.0 1.4 1.0]
    assert inter_modal_weights(ANCHOR, SIX).tolist() == pytest.approx([1 / 2.2, .8 / 2.2, .6 / 2.2, 0, .6 / 2.2,
                                                                      -.8 / 2.2])
    assert intra_modal_weights(RESP, CLUSTERS).tolist() == pytest.approx([1.4, 1.4, 1.0, 1.0, 1.4, 1.0])
    printed = paper_weights(ANCHOR, SIX, RESP, CLUSTERS, normalise=False, sign="paper")
    assert printed.tolist() == pytest.approx([0.636364, 0.509091, 0.272727, 0.0, 0.381818, -0.363636], abs=1e-6)
    # default path: absolute dots (reference code), products divided by their sum 4.76 / 3.8
    got = paper_weights(ANCHOR, SIX, RESP, CLUSTERS, sign="abs")
    assert got.tolist() == pytest.approx([0.294118, 0.235294, 0.126050, 0.0, 0.176471, 0.168067], abs=1e-6)
    clipped = paper_weights(ANCHOR, SIX, RESP, CLUSTERS, sign="clip")
    assert clipped.tolist() == pytest.approx([1.4 / 3.96, 1.12 / 3.96, 0.6 / 3.96, 0, 0.84 / 3.96, 0.0])


def test_printed_eq10_is_undefined_when_dots_cancel() -> None:
    with pytest.raises(ValueError, match="sum to"):
        inter_modal_weights([1.0, 0.0], [[1.0, 0.0], [-1.0, 0.0]])
    assert inter_modal_weights([1.0, 0.0], [[1.0, 0.0], [-1.0, 0.0]], sign="abs").tolist() == [0.5, 0.5]


def _density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    d = len(x)
    diff = [x[k] - mean[k] for k in range(d)]
    inv = np.linalg.inv(cov)
    quad = sum(diff[a] * inv[a, b] * diff[b] for a in range(d) for b in range(d))
    return math.exp(-0.5 * quad) / math.sqrt((2 * math.pi) ** d * np.linalg.det(cov))


def test_eq11_from_gmm_responsibilities_matches_loop() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal((0, 0, 0), 0.3, size=(25, 3)), rng.normal((2, 2, 0), 0.5, size=(25, 3))])
    cm = select_gmm(x, max_components=4)
    gm = cm.model
    assert cm.n_components == 2 and gm.covariance_type == "full" and gm.reg_covar == 1e-6
    assert (gm.max_iter, gm.tol) == (100, 1e-3)
    clusters = cm.predict(x)
    for i in (0, 30, 49):
        # alpha_h phi(x_i | theta_h) for every component, then eq. 11 term by term
        terms = [gm.weights_[h] * _density(x[i], gm.means_[h], gm.covariances_[h]) for h in range(2)]
        total = sum(terms)
        own = int(np.argmax(terms))
        expected = [(terms[int(clusters[j])] + terms[own]) / total for j in range(len(x))]
        got = intra_modal_weights(cm.responsibilities(x[i:i + 1])[0], clusters)
        assert got.tolist() == pytest.approx(expected, rel=1e-6)


def test_generate_paper_matches_loop_and_stays_in_hull() -> None:
    rng = np.random.default_rng(5)
    n = 9
    teacher = rng.normal(size=(n, 4))
    student = teacher + 0.3 * rng.normal(size=(n, 4))
    resp = rng.dirichlet([1.0, 1.0], size=n)
    clusters = rng.integers(0, 2, size=n)
    images = rng.integers(0, 256, size=(n, 3, 3, 3)).astype(np.uint8)
    out = generate_paper(teacher, resp, student, clusters, images, exclude=np.arange(n))
    for a in range(n):
        cands = [j for j in range(n) if j != a]
        assert out.contributors[a].tolist() == cands
        dots = [abs(float(sum(teacher[a][k] * student[j][k] for k in range(4)))) for j in cands]
        own = int(np.argmax(resp[a]))
        w = [dots[t] / sum(dots) * (resp[a][clusters[j]] + resp[a][own]) for t, j in enumerate(cands)]
        w = [v / sum(w) for v in w]
        assert out.weights[a].tolist() == pytest.approx(w)
        acc = np.zeros((3, 3, 3))
        for v, j in zip(w, cands):
            acc += v * images[j]
        assert np.array_equal(out.values[a], np.clip(np.rint(acc), 0, 255).astype(np.uint8))
        stack = images[cands].astype(float)
        assert (out.values[a] >= stack.min(0) - 0.5).all() and (out.values[a] <= stack.max(0) + 0.5).all()


def test_n_mix_draws_subsets_and_several_outputs_need_it() -> None:
    rng = np.random.default_rng(0)
    lat = rng.normal(size=(6, 3))
    resp = np.ones((6, 1))
    out = generate_paper(lat, resp, lat, np.zeros(6, int), None, n_per_teacher=3, rng=np.random.default_rng(1),
                         n_mix=2, exclude=np.arange(6))
    assert out.contributors.shape == (18, 2)
    assert all(out.teacher_index[r] not in out.contributors[r] for r in range(18))
    assert np.allclose(out.weights.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="are the same"):
        generate_paper(lat, resp, lat, np.zeros(6, int), None, n_per_teacher=2, exclude=np.arange(6))


def test_cmda_clusters_the_student_modality() -> None:
    rng = np.random.default_rng(7)
    teacher = rng.normal(size=(30, 3))   # no structure in the teacher
    student = np.repeat(np.array([[6.0, 0, 0], [0, 6.0, 0], [0, 0, 6.0]]), 10, axis=0) + 0.3 * rng.normal(size=(30, 3))
    cmda = CMDA(latent="identity", max_components=5).fit(teacher, student)
    assert cmda.clusters_.n_components == 3
    assert all(len(set(cmda.labels_[k * 10:(k + 1) * 10])) == 1 for k in range(3))
    out = cmda.generate(np.random.default_rng(0))
    assert out.values.shape == (30, 3) and np.allclose(out.weights.sum(axis=1), 1.0)
