"""CMDA intra-modal clustering: BIC/AIC pick the planted number of Gaussian clusters."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug_multimodal.cmda.clustering import select_gmm


def planted(k: int, per: int = 40, dim: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(k, dim))
    return np.concatenate([c + 0.3 * rng.normal(size=(per, dim)) for c in centers])


@pytest.mark.parametrize("k", [1, 2, 4])
def test_bic_picks_planted_clusters(k: int) -> None:
    model = select_gmm(planted(k), max_components=6, criterion="bic")
    assert model.n_components == k
    assert set(model.scores) == set(range(1, 7))
    assert min(model.scores, key=model.scores.get) == k


def test_aic_picks_planted_clusters() -> None:
    x = planted(3, per=80, dim=2, seed=0)
    aic = select_gmm(x, max_components=5, criterion="aic")
    assert aic.n_components == 3
    assert aic.criterion == "aic"
    # AIC penalises size less than BIC: its score gap between 3 and 1 component is larger
    bic = select_gmm(x, max_components=5, criterion="bic")
    assert aic.scores[1] - aic.scores[3] > bic.scores[1] - bic.scores[3]


def test_predict_groups_planted_members_together() -> None:
    x = planted(3, per=20, seed=2)
    model = select_gmm(x, max_components=5)
    labels = model.predict(x)
    for block in range(3):
        assert len(set(labels[block * 20:(block + 1) * 20])) == 1
    assert len(set(labels)) == 3


def test_max_components_capped_by_distinct_points() -> None:
    x = np.repeat(np.array([[0.0, 0.0], [5.0, 5.0]]), 5, axis=0)
    model = select_gmm(x, max_components=8)
    assert max(model.scores) == 2


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="criterion"):
        select_gmm(planted(2), criterion="mdl")
    with pytest.raises(ValueError, match="N x d"):
        select_gmm(np.zeros(5))
