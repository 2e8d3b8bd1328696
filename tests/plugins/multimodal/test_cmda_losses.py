"""CMDA contrastive losses (eq. 7 and 8): pinned against plain loops written from the printed equations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossaug_multimodal.cmda.losses import (
    supervised_contrastive_loss,
    supervised_contrastive_loss_np,
    unsupervised_contrastive_loss,
    unsupervised_contrastive_loss_np,
)


class _LazyTorch:
    """torch for the tests that need it (skipped without the [torch] extra); numpy tests always run."""

    def __getattr__(self, name: str):
        return getattr(pytest.importorskip("torch", reason="CMDA torch losses need the [torch] extra"), name)


torch = _LazyTorch()


# -- independent reference: the printed equations, one term at a time, any K ----------------
def _cos(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v))
    return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def _e(z: list[np.ndarray], i: int, j: int, p: int, q: int, tau: float) -> float:
    """e(i, j)^{p,q} = exp(sim(z_i^(p), z_j^(q)) / tau)."""
    return math.exp(_cos(list(z[p][i]), list(z[q][j])) / tau)


def _ratio(z: list[np.ndarray], i: int, j: int, tau: float) -> float:
    k, m = len(z), z[0].shape[0]
    num = sum(_e(z, i, j, p, q, tau) for p in range(k) for q in range(k) if p != q)
    den = sum(_e(z, i, other, p, q, tau) for p in range(k) for q in range(k) for other in range(m)
              if p != q and other != i)
    return num / den


def eq7_loop(z: list[np.ndarray], tau: float) -> float:
    """L_g = sum_i l_i with eq. 7's l_i."""
    return sum(-math.log(_ratio(z, i, i, tau)) for i in range(z[0].shape[0]))


def eq8_loop(z: list[np.ndarray], labels: list[int], tau: float, include_self: bool = True) -> float:
    """L_g = sum_i l_i with eq. 8's l_i (j runs over all same-class samples, j = i too unless excluded)."""
    m = z[0].shape[0]
    total = 0.0
    for i in range(m):
        m_y = sum(1 for j in range(m) if labels[j] == labels[i])
        if m_y - 1 == 0:
            continue
        acc = 0.0
        for j in range(m):
            if labels[j] == labels[i] and (include_self or j != i):
                acc += math.log(_ratio(z, i, j, tau))
        total += -acc / (m_y - 1)
    return total


ISSUE_LABELS = [0, 0, 1, 1, 2, 2, 3, 3]


def issue_tensors() -> tuple[np.ndarray, np.ndarray]:
    """The random tensors of the issue's figures (m = 8, K = 2, d = 5)."""
    rng = np.random.default_rng(1)
    return rng.normal(size=(8, 5)), rng.normal(size=(8, 5))


def test_issue_figures_reproduced() -> None:
    za, zb = issue_tensors()
    assert unsupervised_contrastive_loss_np(za, zb, 0.5) == pytest.approx(16.95, abs=0.005)
    assert eq7_loop([za, zb], 0.5) == pytest.approx(16.95, abs=0.005)
    assert supervised_contrastive_loss_np(za, zb, ISSUE_LABELS, 0.5) == pytest.approx(33.09, abs=0.005)
    assert supervised_contrastive_loss_np(za, zb, ISSUE_LABELS, 0.5, include_self=False) == pytest.approx(
        16.14, abs=0.005)
    # the standard NT-Xent the code used before gives the issue's 2.84 / 2.80 on the same tensors
    assert float(unsupervised_contrastive_loss(torch.tensor(za), torch.tensor(zb), 0.5, form="ntxent")) == \
        pytest.approx(2.84, abs=0.005)
    assert float(supervised_contrastive_loss(torch.tensor(za), torch.tensor(zb), ISSUE_LABELS, 0.5,
                                             form="ntxent")) == pytest.approx(2.80, abs=0.005)


@pytest.mark.parametrize("seed,m,d,tau", [(0, 5, 3, 0.1), (2, 7, 4, 0.5), (3, 4, 8, 2.0)])
def test_numpy_matches_printed_equations(seed: int, m: int, d: int, tau: float) -> None:
    rng = np.random.default_rng(seed)
    za, zb = rng.normal(size=(m, d)), rng.normal(size=(m, d))
    labels = [int(v) for v in rng.integers(0, 3, size=m)]
    assert unsupervised_contrastive_loss_np(za, zb, tau) == pytest.approx(eq7_loop([za, zb], tau), rel=1e-10)
    for include_self in (True, False):
        assert supervised_contrastive_loss_np(za, zb, labels, tau, include_self=include_self) == pytest.approx(
            eq8_loop([za, zb], labels, tau, include_self), rel=1e-10)


@pytest.mark.parametrize("tau", [0.07, 0.5, 2.0])
def test_torch_matches_printed_equations(tau: float) -> None:
    rng = np.random.default_rng(1)
    za, zb = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    labels = [0, 1, 0, 2, 1, 1, 3]
    ta, tb = torch.tensor(za), torch.tensor(zb)
    assert float(unsupervised_contrastive_loss(ta, tb, tau)) == pytest.approx(eq7_loop([za, zb], tau), rel=1e-9)
    for include_self in (True, False):
        got = supervised_contrastive_loss(ta, tb, labels, tau, include_self=include_self)
        assert float(got) == pytest.approx(eq8_loop([za, zb], labels, tau, include_self), rel=1e-9)
    mean = unsupervised_contrastive_loss(ta, tb, tau, reduction="mean")
    assert float(mean) == pytest.approx(eq7_loop([za, zb], tau) / 7, rel=1e-9)


def test_hand_values() -> None:
    # two orthogonal, perfectly aligned pairs, tau = 1: numerator e + e, denominator 1 + 1 -> l_i = -1
    z = np.eye(2)
    assert unsupervised_contrastive_loss_np(z, z, tau=1.0) == pytest.approx(-2.0)
    # tau = 0.5: l_i = -log(2 e^2 / 2) = -2
    assert unsupervised_contrastive_loss_np(z, z, tau=0.5) == pytest.approx(-4.0)
    # one class: j = i gives log e = 1, j != i gives log(2 / 2) = 0, normaliser m_y - 1 = 1
    assert supervised_contrastive_loss_np(z, z, [7, 7], tau=1.0) == pytest.approx(-2.0)
    assert supervised_contrastive_loss_np(z, z, [7, 7], tau=1.0, include_self=False) == pytest.approx(0.0)
    # distinct classes: m_y - 1 = 0, nothing to pull together
    assert supervised_contrastive_loss_np(z, z, [1, 2], tau=1.0) == 0.0


def test_losses_are_scale_invariant_and_differentiable() -> None:
    za = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], requires_grad=True)
    zb = torch.tensor([[1.1, 2.0], [2.0, -1.5], [0.1, 0.9]])
    loss = unsupervised_contrastive_loss(za, zb, 0.2)
    loss.backward()
    assert za.grad is not None and torch.isfinite(za.grad).all() and za.grad.abs().sum() > 0
    assert float(unsupervised_contrastive_loss(3 * za.detach(), zb, 0.2)) == pytest.approx(float(loss.detach()))


def test_aligned_pairs_have_lower_loss_than_shuffled() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(8, 6))
    aligned = unsupervised_contrastive_loss_np(z, z + 0.01 * rng.normal(size=z.shape), 0.1)
    shuffled = unsupervised_contrastive_loss_np(z, z[::-1], 0.1)
    assert aligned < shuffled


def test_bad_inputs() -> None:
    z = np.eye(2)
    with pytest.raises(ValueError, match="tau"):
        unsupervised_contrastive_loss_np(z, z, tau=0.0)
    with pytest.raises(ValueError, match="N x d"):
        unsupervised_contrastive_loss_np(z, z[:1], tau=1.0)
    with pytest.raises(ValueError, match="N >= 2"):
        unsupervised_contrastive_loss_np(z[:1], z[:1], tau=1.0)
    with pytest.raises(ValueError, match="labels"):
        supervised_contrastive_loss_np(z, z, [1], tau=1.0)
    with pytest.raises(ValueError, match="tau"):
        unsupervised_contrastive_loss(torch.tensor(z), torch.tensor(z), tau=-1.0)
    with pytest.raises(ValueError, match="form"):
        unsupervised_contrastive_loss(torch.tensor(z), torch.tensor(z), tau=1.0, form="simclr")
