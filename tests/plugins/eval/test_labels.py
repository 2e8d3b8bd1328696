"""Mixed (soft) labels such as MixGen's ``[[y_a, lam], [y_b, 1 - lam]]`` train the classifiers as soft targets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from crossaug import BadSample, Sample
from crossaug_eval import Protocol, evaluate
from crossaug_eval.classifiers.image_cnn import ImageCNN
from crossaug_eval.classifiers.text_embed import EmbeddingLogReg
from crossaug_eval.classifiers.training import class_targets, label_index
from crossaug_eval.labels import dominant_label, is_soft, label_classes, label_weights


class LetterCounts:
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.array([[t.count(c) for c in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=float)


def test_shares_and_the_dominant_class() -> None:
    soft = [["dog", 0.3], ["cat", 0.7]]
    assert is_soft(soft) and is_soft((("a", 1),)) and not is_soft("dog") and not is_soft(3)
    assert not is_soft(["a", "b"]) and not is_soft([]) and not is_soft([["a", True]])
    assert label_weights(soft) == {"dog": 0.3, "cat": 0.7} and dominant_label(soft) == "cat"
    assert dominant_label([[1, 0.5], [0, 0.5]]) == 1  # a tie keeps the first listed: the input's own label
    assert label_weights([["a", 0.25], ["a", 0.25], ["b", 0.5]]) == {"a": 0.5, "b": 0.5}
    assert label_classes([2, [[0, 0.6], [1, 0.4]], 2]) == [0, 1, 2]


def test_bad_shares_name_the_sample_and_the_field() -> None:
    with pytest.raises(BadSample, match="'m7'.*'label'.*sum to 0.9"):
        label_weights([["a", 0.5], ["b", 0.4]], sample_id="m7")
    with pytest.raises(BadSample, match="finite share"):
        label_weights([["a", 1.5], ["b", -0.5]], sample_id="m8")


def test_targets_are_indices_for_hard_labels_and_share_rows_for_mixed_ones() -> None:
    hard = ["b", "a", "b"]
    classes, index = label_index(hard)
    assert classes == ["a", "b"] and class_targets(hard, index).tolist() == [1, 0, 1]
    mixed = ["b", [["a", 0.75], ["c", 0.25]], "c"]
    classes, index = label_index(mixed)
    expected = [[0.0] * 3 for _ in mixed]  # plain loop: one-hot rows, shares for the mix
    for i, y in enumerate(mixed):
        for cls, share in (y if isinstance(y, list) else [[y, 1.0]]):
            expected[i][classes.index(cls)] += share
    assert class_targets(mixed, index).tolist() == expected


def _half_half() -> list[Sample]:
    """Every example is a 50/50 mix: no model can bring soft-target cross-entropy below ln 2."""
    return [Sample(f"m{i}", {"text": "ab" * (i + 1)}, label=[["a", 0.5], ["b", 0.5]]) for i in range(6)]


def test_logistic_regression_trains_on_soft_targets() -> None:
    clf = EmbeddingLogReg(embedder=LetterCounts()).fit(_half_half(), seed=0)
    # training on the dominant label alone would give one class and a loss of 0
    assert clf._classes == ["a", "b"] and clf.train_loss_ >= math.log(2) - 1e-9
    mixed = [Sample(f"a{i}", {"text": "aaaa " * (i + 1)}, label="A") for i in range(4)] + \
            [Sample(f"z{i}", {"text": "zzzz " * (i + 1)}, label="Z") for i in range(4)] + \
            [Sample("mix", {"text": "aaaa zzzz"}, label=[["A", 0.5], ["Z", 0.5]])]
    clf = EmbeddingLogReg(embedder=LetterCounts()).fit(mixed, seed=0)
    assert clf.predict([Sample("q", {"text": "aaa"}), Sample("r", {"text": "zz zz"})]) == ["A", "Z"]


def test_cnn_trains_on_soft_targets() -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    data = [Sample(f"m{i}", {"image": Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8))},
                   label=[[0, 0.5], [1, 0.5]]) for i in range(6)]
    clf = ImageCNN(size=8, steps=20, width=4).fit(data, seed=0)
    assert clf._classes == [0, 1] and clf.train_loss_ >= math.log(2) - 1e-4


def test_evaluate_runs_mixgen_with_its_soft_labels() -> None:
    from crossaug import registry

    if "mixgen" not in registry.names("recipe"):
        pytest.skip("mixgen needs crossaug-multimodal (pip install 'crossaug[multimodal]')")
    from crossaug_eval.methods import make_method
    from PIL import Image

    data = [Sample(f"{c}{i}", {"image": Image.new("RGB", (8, 8), (200 * c, 40 * i, 0)), "text": f"class {c}"},
                   label=c) for c in (0, 1) for i in range(5)]
    augs = make_method("mixgen", budget=4, field="image").augment(data[:2] + data[5:7], 4, seed=0)
    labels = [a.label for out in augs.values() for a in out]
    assert any(is_soft(y) for y in labels)  # MixGen's default label_mode is soft
    res = evaluate(data, ["mixgen"], field="image", classifier=ImageCNN(size=8, steps=5, width=4),
                   protocol=Protocol(shots=(2,), data_seeds=1, test_per_class=2, affinity_per_class=1,
                                     reference_per_class=2, budget=4))
    assert not res.skipped and [r["method"] for r in res.table] == ["none", "mixgen"]
    assert res.results[-1]["augmented"] == 2 * 2 * 4
    assert res.quality["mixgen"]["label_preservation"] is not None
