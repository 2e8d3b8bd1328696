"""CMDA contrastive losses (eq. 7 and 8): hand-computed values, torch vs numpy references."""

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

ZA = np.array([[1.0, 0.0], [0.0, 1.0]])
ZB = np.array([[1.0, 0.0], [0.0, 1.0]])


def test_unsupervised_hand_value() -> None:
    # anchor a1: positive b1 (cos 1), negatives a2, b2 (cos 0): -log(e / (e + 2)), same for all 4 anchors
    expected = math.log((math.e + 2) / math.e)
    assert unsupervised_contrastive_loss_np(ZA, ZB, tau=1.0) == pytest.approx(expected)
    got = unsupervised_contrastive_loss(torch.tensor(ZA), torch.tensor(ZB), tau=1.0)
    assert float(got) == pytest.approx(expected)


def test_unsupervised_temperature_hand_value() -> None:
    # tau = 0.5: logits double -> -log(e^2 / (e^2 + 2))
    expected = math.log((math.e ** 2 + 2) / math.e ** 2)
    assert unsupervised_contrastive_loss_np(ZA, ZB, tau=0.5) == pytest.approx(expected)
    assert float(unsupervised_contrastive_loss(torch.tensor(ZA), torch.tensor(ZB), tau=0.5)) == pytest.approx(expected)


def test_supervised_same_class_pulls_everything() -> None:
    # one class: each anchor has 3 positives with logits 1, 0, 0 over denominator e + 2
    expected = math.log(math.e + 2) - 1.0 / 3.0
    assert supervised_contrastive_loss_np(ZA, ZB, [5, 5], tau=1.0) == pytest.approx(expected)
    got = supervised_contrastive_loss(torch.tensor(ZA), torch.tensor(ZB), torch.tensor([5, 5]), tau=1.0)
    assert float(got) == pytest.approx(expected)


def test_supervised_with_distinct_labels_is_unsupervised() -> None:
    rng = np.random.default_rng(0)
    za, zb = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    a = supervised_contrastive_loss_np(za, zb, list(range(6)), tau=0.3)
    b = unsupervised_contrastive_loss_np(za, zb, tau=0.3)
    assert a == pytest.approx(b)


@pytest.mark.parametrize("tau", [0.07, 0.5, 2.0])
def test_torch_matches_numpy_reference(tau: float) -> None:
    rng = np.random.default_rng(1)
    za, zb = rng.normal(size=(7, 5)), rng.normal(size=(7, 5))
    labels = [0, 1, 0, 2, 1, 1, 3]
    assert float(unsupervised_contrastive_loss(torch.tensor(za), torch.tensor(zb), tau)) == pytest.approx(
        unsupervised_contrastive_loss_np(za, zb, tau), rel=1e-9)
    assert float(supervised_contrastive_loss(torch.tensor(za), torch.tensor(zb), labels, tau)) == pytest.approx(
        supervised_contrastive_loss_np(za, zb, labels, tau), rel=1e-9)


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
    with pytest.raises(ValueError, match="tau"):
        unsupervised_contrastive_loss_np(ZA, ZB, tau=0.0)
    with pytest.raises(ValueError, match="N x d"):
        unsupervised_contrastive_loss_np(ZA, ZB[:1], tau=1.0)
    with pytest.raises(ValueError, match="labels"):
        supervised_contrastive_loss_np(ZA, ZB, [1], tau=1.0)
    with pytest.raises(ValueError, match="tau"):
        unsupervised_contrastive_loss(torch.tensor(ZA), torch.tensor(ZB), tau=-1.0)
