"""Compose's per-step probability ``p`` (Albumentations semantics) and OneOf's weights."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import Compose, ConfigError, OneOf, Sample, Seeder
from crossaug.builtin.typo import Typo
from crossaug.serialization import from_dict

S = Sample("s", {"text": "the quick brown fox jumps over the lazy dog"})


def applied(aug: Compose, seed: int) -> list[int]:
    return [e["index"] for e in aug.sample_params(S, Seeder(seed).rng("k"))["applied"]]


def test_per_step_p_applies_each_step_at_its_own_rate() -> None:
    aug = Compose([Typo(rate=0.1), Typo(rate=0.1), Typo(rate=0.1)], p=[1.0, 0.0, 0.3])
    runs = [applied(aug, seed) for seed in range(2000)]
    assert all(0 in r and 1 not in r for r in runs)
    rate = sum(2 in r for r in runs) / len(runs)
    assert abs(rate - 0.3) < 0.04, rate  # binomial sd at n=2000 is 0.01


def test_a_steps_draws_do_not_depend_on_another_steps_p() -> None:
    # step 0 is a no-op when applied (rate 0), so step 1 sees the same input either way;
    # with its own stream, step 1's params must not change when step 0's p does
    noop, swap = Typo(rate=0.0), Typo(rate=0.3, ops=["swap"])
    a = Compose([noop, swap], p=[1.0, 1.0])
    b = Compose([noop, swap], p=[0.0, 1.0])
    for seed in range(20):
        pa = a.sample_params(S, np.random.default_rng(seed))["applied"]
        pb = b.sample_params(S, np.random.default_rng(seed))["applied"]
        assert [e["index"] for e in pa] == [0, 1] and [e["index"] for e in pb] == [1]
        assert pa[1]["params"] == pb[0]["params"]


def test_replay_and_serialisation_with_per_step_p() -> None:
    aug = Compose([Typo(rate=0.2), Typo(rate=0.5)], p=[0.5, 0.5])
    out = aug.augment(S, np.random.default_rng(4))
    assert aug.replay(S, out.lineage[-1].params).fields == out.fields
    again = from_dict(aug.to_dict())
    assert again.p == [0.5, 0.5]
    assert again.augment(S, np.random.default_rng(4)).fields == out.fields


def test_single_p_and_bad_p() -> None:
    assert Compose([Typo()], p=0.5).p == 0.5
    with pytest.raises(ConfigError, match="one number for every step|2 of them"):
        Compose([Typo(), Typo()], p=[0.5])
    with pytest.raises(ConfigError):
        Compose([Typo()], p=1.5)


def test_one_of_normalises_weights_like_albumentations_p() -> None:
    aug = OneOf([Typo(rate=0.1), Typo(rate=0.2)], weights=[0.2, 0.6])
    picks = [aug.sample_params(S, np.random.default_rng(i))["index"] for i in range(2000)]
    assert abs(np.mean(picks) - 0.75) < 0.04
