"""MixGen: exact mixing on small arrays, no chained mixing, recipe contract and partner determinism."""

from __future__ import annotations

from collections.abc import Sequence

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder
from crossaug_multimodal.mixgen import mix_images, mixgen, mixgen_batch, mixgen_pair
from crossaug_testing import RecipeContract
from crossaug_testing.contract import fields_equal
from PIL import Image


def reference_in_place(images: np.ndarray, texts: list[str], index: Sequence[int], lam: float) -> tuple:
    """The reference implementation's loop: mutates the batch while reading from it."""
    images = images.astype(np.float64).copy()
    texts = list(texts)
    for i in range(len(texts)):
        images[i] = lam * images[i] + (1 - lam) * images[index[i]]
        texts[i] = texts[i] + " " + texts[index[i]]
    return images, texts


def test_pair_exact_values() -> None:
    a = np.array([[0, 100], [255, 7]], np.uint8)
    b = np.array([[50, 0], [255, 8]], np.uint8)
    img, txt = mixgen_pair(a, b, "a cat", "on a mat", lam=0.5)
    assert img.tolist() == [[25, 50], [255, 8]]  # 7.5 rounds half to even -> 8
    assert img.dtype == np.uint8 and txt == "a cat on a mat"
    img, _ = mixgen_pair(a, b, "x", "y", lam=0.8)
    assert img.tolist() == [[10, 80], [255, 7]]
    assert mix_images(np.array([1.0]), np.array([3.0]), 0.25).tolist() == [2.5]


def test_default_mixgen_mixes_first_num_with_next_num() -> None:
    x = np.arange(6 * 2, dtype=np.float64).reshape(6, 2)
    texts = [f"t{i}" for i in range(6)]
    before = x.copy()
    out, t = mixgen(x, texts, num=2, lam=0.5)
    assert np.array_equal(x, before) and texts == [f"t{i}" for i in range(6)]
    assert out[0].tolist() == ((x[0] + x[2]) / 2).tolist() and out[1].tolist() == ((x[1] + x[3]) / 2).tolist()
    assert np.array_equal(out[2:], x[2:])
    assert t == ["t0 t2", "t1 t3", "t2", "t3", "t4", "t5"]


def test_batch_mixes_original_samples_only() -> None:
    x = np.array([[0.0], [10.0], [20.0], [40.0]])
    texts = ["a", "b", "c", "d"]
    perm = [2, 0, 3, 1]   # sample 1's partner (0) is mixed before it in the reference loop
    out, t = mixgen_batch(x, texts, perm, lam=0.5)
    assert out[:, 0].tolist() == [10.0, 5.0, 30.0, 25.0]
    assert t == ["a c", "b a", "c d", "d b"]
    ref_img, ref_txt = reference_in_place(x, texts, perm, 0.5)
    # the in-place reference blends already-mixed samples: sample 1 gets (10 + 10) / 2, text "b a c"
    assert ref_img[1, 0] == 10.0 and ref_txt[1] == "b a c"
    assert not np.array_equal(out, ref_img)
    assert x[:, 0].tolist() == [0.0, 10.0, 20.0, 40.0]


def test_batch_with_seeded_permutation_and_fixed_points() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(8, 3, 3)).astype(np.uint8)
    texts = [str(i) for i in range(8)]
    perm = np.random.default_rng(5).permutation(8)
    out, t = mixgen_batch(x, texts, perm)
    for i in range(8):
        if perm[i] == i:
            assert np.array_equal(out[i], x[i]) and t[i] == texts[i]
        else:
            expected = np.rint(0.5 * x[i].astype(float) + 0.5 * x[perm[i]].astype(float)).astype(np.uint8)
            assert np.array_equal(out[i], expected) and t[i] == f"{i} {perm[i]}"
    out2, _ = mixgen_batch(x, texts, np.random.default_rng(5).permutation(8))
    assert np.array_equal(out, out2)


def test_batch_on_torch_tensors_and_lists() -> None:
    torch = pytest.importorskip("torch", reason="optional torch path")
    x = torch.tensor([[0.0], [10.0], [20.0]])
    out, _ = mixgen_batch(x, ["a", "b", "c"], [1, 2, 0])
    assert out[:, 0].tolist() == [5.0, 15.0, 10.0] and x[:, 0].tolist() == [0.0, 10.0, 20.0]
    lst, _ = mixgen_batch([np.array([0.0]), np.array([4.0])], ["a", "b"], [1, 0])
    assert [v.tolist() for v in lst] == [[2.0], [2.0]]


def test_functional_bad_inputs() -> None:
    with pytest.raises(ValueError, match="permutation"):
        mixgen_batch(np.zeros((3, 1)), ["a", "b", "c"], [0, 0, 1])
    with pytest.raises(ValueError, match="num"):
        mixgen(np.zeros((4, 1)), list("abcd"), num=3)
    with pytest.raises(ValueError, match="shape"):
        mixgen_pair(np.zeros((2, 2)), np.zeros((3, 3)), "a", "b")


def pairs(n: int = 4, size: tuple[int, int] = (8, 8)) -> list[Sample]:
    return [Sample(f"p{i}", {"image": Image.new("RGB", size, (60 * i, 255 - 60 * i, 10)), "text": f"caption {i}"},
                   label=i) for i in range(n)]


class TestMixGenContract(RecipeContract):
    name = "mixgen"
    params = {"n": 2}

    def good_samples(self) -> list[Sample]:
        return pairs(3)

    def bad_samples(self) -> list[tuple[Sample, str]]:
        return [(Sample("no-image", {"text": "a cat"}), "needs field 'image'"),
                (Sample("blank", {"text": " ", "image": Image.new("RGB", (8, 8))}), "whitespace")]


def test_recipe_output_is_exact_mix_with_recorded_partner() -> None:
    data = pairs(4)
    recipe = crossaug.create("recipe", "mixgen", n=3, lam=0.5)
    recipe.fit(data)
    by_id = {s.id: s for s in data}
    outs = recipe.process(data[:2], Seeder(0))
    for parent, group in zip(data[:2], outs, strict=True):
        partners = [o.meta["mixgen"]["partner"] for o in group]
        assert len(set(partners)) == 3 and parent.id not in partners
        for o in group:
            p = by_id[o.lineage[-1].params["partner"]]
            expected = np.rint(0.5 * np.asarray(parent.fields["image"], float)
                               + 0.5 * np.asarray(p.fields["image"], float)).astype(np.uint8)
            assert np.array_equal(np.asarray(o.fields["image"]), expected)
            assert o.fields["text"] == f"{parent.fields['text']} {p.fields['text']}"
            assert o.meta["mixgen"]["partner_label"] == p.label
            assert o.label == [[parent.label, 0.5], [p.label, 0.5]]   # the mixed label, for training code
            assert o.lineage[-1].parent_ids == (parent.id, p.id)


def test_same_label_stays_plain_and_input_mode_keeps_it() -> None:
    data = [s.replace(label="cat") for s in pairs(3)]
    recipe = crossaug.create("recipe", "mixgen")
    recipe.fit(data)
    assert recipe.process(data[:1], Seeder(0))[0][0].label == "cat"
    mixed = pairs(3)
    keep = crossaug.create("recipe", "mixgen", label_mode="input")
    keep.fit(mixed)
    assert keep.process(mixed[:1], Seeder(0))[0][0].label == 0


@pytest.mark.parametrize("dist", ["beta", "uniform"])
def test_sampled_lambda_is_recorded_used_and_seeded(dist: str) -> None:
    data = pairs(4)
    recipe = crossaug.create("recipe", "mixgen", n=3, lam_distribution=dist, alpha=0.4)
    recipe.fit(data)
    by_id = {s.id: s for s in data}
    outs = recipe.process(data, Seeder(7))
    lams = [o.lineage[-1].params["lam"] for g in outs for o in g]
    assert len(set(lams)) == len(lams) and all(0.0 <= v <= 1.0 for v in lams)
    for parent, group in zip(data, outs, strict=True):
        for o in group:
            lam = o.lineage[-1].params["lam"]
            p = by_id[o.meta["mixgen"]["partner"]]
            expected = np.clip(np.rint(lam * np.asarray(parent.fields["image"], float)
                                       + (1 - lam) * np.asarray(p.fields["image"], float)), 0, 255)
            assert np.array_equal(np.asarray(o.fields["image"]), expected.astype(np.uint8))
            assert o.label == [[parent.label, lam], [p.label, 1 - lam]]
    again = recipe.process(data, Seeder(7))
    assert lams == [o.lineage[-1].params["lam"] for g in again for o in g]


def test_sample_lambda_distributions() -> None:
    from crossaug_multimodal.mixgen.functional import sample_lambda

    rng = np.random.default_rng(0)
    beta = np.array([sample_lambda(rng, "beta", alpha=0.2) for _ in range(2000)])
    uni = np.array([sample_lambda(rng, "uniform") for _ in range(2000)])
    assert sample_lambda(rng, "fixed") == 0.5
    assert abs(beta.mean() - 0.5) < 0.05 and np.mean((beta < 0.1) | (beta > 0.9)) > 0.5   # U-shaped Beta(0.2, 0.2)
    assert abs(uni.mean() - 0.5) < 0.03 and 0.2 < np.mean(uni < 0.3) < 0.4
    with pytest.raises(ValueError, match="distribution"):
        sample_lambda(rng, "normal")


def test_partner_depends_on_id_and_seed_only() -> None:
    data = pairs(6)
    recipe = crossaug.create("recipe", "mixgen")
    recipe.fit(data)
    alone = recipe.process([data[3]], Seeder(11))[0][0]
    in_batch = recipe.process(data[::-1], Seeder(11))[2][0]
    assert alone.meta["mixgen"]["partner"] == in_batch.meta["mixgen"]["partner"]
    assert fields_equal(alone, in_batch)
    other_seed = {recipe.process([data[3]], Seeder(s))[0][0].meta["mixgen"]["partner"] for s in range(12)}
    assert len(other_seed) > 1
    refit = crossaug.create("recipe", "mixgen")
    refit.fit(list(reversed(data)))   # dataset order does not matter
    assert fields_equal(refit.process([data[3]], Seeder(11))[0][0], alone)


def test_partner_resized_to_input_size() -> None:
    data = [Sample("big", {"image": Image.new("RGB", (16, 12), "white"), "text": "big"}),
            Sample("small", {"image": Image.new("L", (8, 8), 0), "text": "small"})]
    recipe = crossaug.create("recipe", "mixgen")
    recipe.fit(data)
    out = recipe.process([data[0]], Seeder(0))[0][0]
    assert out.fields["image"].size == (16, 12) and out.fields["image"].mode == "RGB"
    assert out.fields["image"].getpixel((3, 3)) == (128, 128, 128)


def test_recipe_needs_partners_and_valid_config() -> None:
    recipe = crossaug.create("recipe", "mixgen")
    recipe.fit(pairs(1))
    with pytest.raises(BadSample, match="'p0'.*no partner"):
        recipe.process(pairs(1), Seeder(0))
    for bad in ({"lam": 1.5}, {"n": 0}, {"image_field": "text"}, {"lam_distribution": "normal"}, {"alpha": 0},
                {"label_mode": "hard"}):
        with pytest.raises(ConfigError):
            crossaug.create("recipe", "mixgen", **bad)
