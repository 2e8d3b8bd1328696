"""Metric and statistics functions against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossaug_eval.classifiers.audio_cnn import log_mel, mel_filterbank
from crossaug_eval.metrics import (
    accuracy,
    affinity,
    clip_score,
    cosine_similarity,
    diversity,
    filter_ratios,
    label_preservation_rate,
    mean_distance_to,
    mean_pairwise_distance,
    pixel_features,
)
from crossaug_eval.stats import mean_ci, paired_t_test, summarise, wilcoxon_test


def test_affinity_and_diversity_are_the_papers_ratios() -> None:
    assert affinity(0.6, 0.8) == pytest.approx(0.75)
    assert affinity(0.9, 0.9) == 1.0
    assert math.isnan(affinity(0.5, 0.0))
    assert diversity(0.3, 0.1) == pytest.approx(3.0)
    assert math.isnan(diversity(0.3, 0.0))


def test_cosine_and_clip_score() -> None:
    sims = cosine_similarity([[1, 0], [3, 4], [0, 0]], [[0, 1], [6, 8], [1, 1]])
    assert sims.tolist() == pytest.approx([0.0, 1.0, 0.0])
    # cos([1,0],[0.6,0.8]) = 0.6 -> 2.5 * 0.6; negative cosines clip to 0
    assert clip_score([[1, 0], [1, 0]], [[0.6, 0.8], [-1, 0]]) == pytest.approx([1.5, 0.0])
    with pytest.raises(ValueError):
        cosine_similarity([[1, 0]], [[1, 0, 0]])


def test_dispersion_by_hand() -> None:
    # pairs: |(0,0)-(3,4)| = 5, |(0,0)-(0,0)| = 0, |(3,4)-(0,0)| = 5 -> mean 10/3
    assert mean_pairwise_distance([[0, 0], [3, 4], [0, 0]]) == pytest.approx(10 / 3)
    assert mean_pairwise_distance([[1, 2]]) == 0.0
    assert mean_distance_to([[3, 4], [0, 1]], [0, 0]) == pytest.approx(3.0)


def test_pixel_features_of_a_flat_image() -> None:
    from PIL import Image

    f = pixel_features(Image.new("RGB", (20, 10), (255, 255, 255)), size=4)
    assert f.shape == (16,) and np.allclose(f, 1.0)


def test_label_preservation_and_accuracy() -> None:
    assert label_preservation_rate(["a", "b", "b", "c"], ["a", "b", "c", "a"]) == 0.5
    assert accuracy([1, 1, 0], [1, 0, 0]) == pytest.approx(2 / 3)
    assert math.isnan(label_preservation_rate([], []))
    with pytest.raises(ValueError):
        accuracy([1], [1, 2])


def test_filter_ratios() -> None:
    r = filter_ratios({"f": {"scored": 8, "rejected": 2}, "g": {"scored": 0, "rejected": 0}})
    assert r["f"] == {"scored": 8, "kept": 6, "rejected": 2, "kept_ratio": 0.75, "rejected_ratio": 0.25}
    assert r["g"]["kept_ratio"] is None


def test_mean_ci_by_hand() -> None:
    # mean 0.6, sd 0.1, n 3: half width = t(0.975, 2) * 0.1 / sqrt(3) = 4.302653 * 0.057735 = 0.248414
    m, lo, hi = mean_ci([0.5, 0.6, 0.7])
    assert m == pytest.approx(0.6) and lo == pytest.approx(0.6 - 0.248414, abs=1e-5)
    assert hi == pytest.approx(0.6 + 0.248414, abs=1e-5)
    assert mean_ci([0.4]) == (0.4, 0.4, 0.4)


def test_paired_t_test_by_hand() -> None:
    # d = [1, 2, 3]: t = 2 / (1 / sqrt 3) = 3.4641; df 2: two-sided p = 1 - t / sqrt(t^2 + 2) = 0.074180
    t, p = paired_t_test([2, 4, 6], [1, 2, 3])
    assert t == pytest.approx(3.464102, abs=1e-5) and p == pytest.approx(0.074180, abs=1e-5)
    assert paired_t_test([1, 2], [1, 2]) == (0.0, 1.0)
    assert paired_t_test([2, 3], [1, 2]) == (math.inf, 0.0)


def test_wilcoxon_exact_small_sample() -> None:
    # 5 positive differences, no ties: exact two-sided p = 2 / 2^5 = 0.0625
    assert wilcoxon_test([2, 3, 4, 5, 6], [1, 1, 1, 1, 1]) == pytest.approx(0.0625)
    assert wilcoxon_test([1, 2], [1, 2]) == 1.0


def test_summarise_pairs_runs_by_seed() -> None:
    rows = [{"method": m, "k": 1, "data_seed": s, "train_seed": 0, "accuracy": acc}
            for m, accs in (("none", [0.5, 0.6, 0.7]), ("x", [0.6, 0.8, 1.0])) for s, acc in enumerate(accs)]
    table = summarise(rows)
    assert [(r["method"], r["k"], r["runs"]) for r in table] == [("none", 1, 3), ("x", 1, 3)]
    x = table[1]
    assert x["delta"] == pytest.approx(0.2) and x["pairs"] == 3
    assert x["t"] == pytest.approx(3.464102, abs=1e-4)  # differences 0.1, 0.2, 0.3
    assert "delta" not in table[0]


def test_mel_filterbank_and_log_mel() -> None:
    fb = mel_filterbank(16000, 400, 40)
    assert fb.shape == (40, 201) and fb.max() <= 1.0 + 1e-9 and (fb.sum(axis=1) > 0).all()
    # a 1 kHz tone puts its energy in the band whose centre is nearest 1 kHz
    t = np.arange(16000) / 16000
    spec = log_mel(np.sin(2 * np.pi * 1000 * t).astype(np.float32), 16000, seconds=1.0)
    assert spec.shape == (40, 98)
    centres = (fb * np.linspace(0, 8000, 201)).sum(1) / fb.sum(1)
    assert abs(centres[spec.mean(axis=1).argmax()] - 1000) < 120
    # resampled input of another rate gives the same shape
    assert log_mel(np.zeros(8000, np.float32), 8000, seconds=1.0).shape == (40, 98)
