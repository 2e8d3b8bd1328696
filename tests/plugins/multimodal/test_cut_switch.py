"""Cut-Switch: exact, lossless block switching across aligned modalities; contracts."""

from __future__ import annotations

import crossaug
import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample
from crossaug_multimodal.cut_switch import cut_switch, random_permutation, sample_box, unswitch
from crossaug_testing import AugmentationContract, RecipeContract
from PIL import Image


def rgbd(seed: int = 0, size: tuple[int, int] = (12, 10)) -> Sample:
    rng = np.random.default_rng(seed)
    w, h = size
    rgb = rng.integers(0, 256, size=(h, w, 3)).astype(np.uint8)
    depth = rng.integers(0, 256, size=(h, w)).astype(np.uint8)
    return Sample(f"rgbd{seed}", {"image": Image.fromarray(rgb), "image.depth": Image.fromarray(depth)})


def test_exact_swap_on_small_arrays() -> None:
    a = np.arange(16, dtype=np.uint8).reshape(4, 4)
    b = 100 + np.arange(16, dtype=np.uint8).reshape(4, 4)
    x, y = cut_switch([a, b], [1, 0, 3, 2])
    expected_x = a.copy()
    expected_x[0:2, 1:3] = b[0:2, 1:3]
    expected_y = b.copy()
    expected_y[0:2, 1:3] = a[0:2, 1:3]
    assert x.tolist() == expected_x.tolist() and y.tolist() == expected_y.tolist()
    assert a[0, 1] == 1 and b[0, 1] == 101   # inputs untouched


def test_switch_is_lossless_and_self_inverse() -> None:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(6, 5, 3)).astype(np.uint8)
    depth = rng.integers(0, 256, size=(6, 5)).astype(np.uint8)
    box = [1, 2, 4, 5]
    x, y = cut_switch([rgb, depth], box, keep_channels=False)   # grey promoted: nothing lost
    # the switched-out content is in the other output
    assert np.array_equal(y[2:5, 1:4], rgb[2:5, 1:4])
    assert np.array_equal(x[2:5, 1:4, 0], depth[2:5, 1:4]) and np.array_equal(x[2:5, 1:4, 2], depth[2:5, 1:4])
    back_rgb, back_depth = cut_switch([x, y], box, keep_channels=False)
    assert np.array_equal(back_rgb, rgb) and np.array_equal(back_depth[..., 0], depth)


def test_channels_are_kept_per_map() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(6, 5, 3)).astype(np.uint8)
    depth = rng.integers(0, 256, size=(6, 5)).astype(np.uint8)
    x, y = cut_switch([rgb, depth], [1, 2, 4, 5], perm=[1, 0])
    assert x.shape == rgb.shape and y.shape == depth.shape
    assert all(np.array_equal(x[2:5, 1:4, c], depth[2:5, 1:4]) for c in range(3))
    r, g, b = (rgb[2:5, 1:4, c].astype(float) for c in range(3))
    assert np.array_equal(y[2:5, 1:4], np.clip(np.rint(0.299 * r + 0.587 * g + 0.114 * b), 0, 255))
    # the grey map's block comes back exactly; the colour block only as its luma
    back_rgb, back_depth = unswitch([x, y], [1, 2, 4, 5], perm=[1, 0])
    assert np.array_equal(back_depth, depth)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_random_permutations_are_reversible(n: int) -> None:
    rng = np.random.default_rng(n)
    maps = [rng.integers(0, 256, size=(5, 6, 3)).astype(np.uint8) for _ in range(n)]
    seen = set()
    for _ in range(30):
        perm = random_permutation(n, rng)
        assert sorted(perm) == list(range(n)) and perm != list(range(n))
        seen.add(tuple(perm))
        out = cut_switch(maps, [1, 1, 4, 3], perm=perm)
        for k in range(n):
            assert np.array_equal(out[k][1:3, 1:4], maps[perm[k]][1:3, 1:4])
        back = unswitch(out, [1, 1, 4, 3], perm=perm)
        assert all(np.array_equal(a, b) for a, b in zip(back, maps, strict=True))
    assert len(seen) == 1 if n == 2 else len(seen) >= 5   # the swap; otherwise many different switches


def test_three_modalities_rotate_and_unswitch() -> None:
    maps = [np.full((3, 3), v, np.uint8) for v in (1, 2, 3)]
    out = cut_switch(maps, [0, 0, 2, 2], shift=1)
    assert [int(m[0, 0]) for m in out] == [2, 3, 1] and [int(m[2, 2]) for m in out] == [1, 2, 3]
    back = unswitch(out, [0, 0, 2, 2], shift=1)
    assert all(np.array_equal(a, b) for a, b in zip(back, maps, strict=True))


def test_sample_box_within_bounds_and_area() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        x0, y0, x1, y1 = sample_box(40, 60, rng, area=(0.1, 0.3), aspect=(0.5, 2.0))
        assert 0 <= x0 < x1 <= 60 and 0 <= y0 < y1 <= 40
        assert 0.05 <= (x1 - x0) * (y1 - y0) / 2400 <= 0.4


def test_functional_bad_inputs() -> None:
    with pytest.raises(ValueError, match="aligned"):
        cut_switch([np.zeros((3, 3)), np.zeros((4, 3))], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="outside"):
        cut_switch([np.zeros((3, 3)), np.zeros((3, 3))], [0, 0, 5, 1])
    with pytest.raises(ValueError, match="two"):
        cut_switch([np.zeros((3, 3))], [0, 0, 1, 1])


class TestCutSwitchContract(AugmentationContract):
    name = "multimodal.cut-switch"
    params = {"area": [0.2, 0.4]}

    def good_samples(self) -> list[Sample]:
        return [rgbd(0), rgbd(1, (16, 16))]

    def bad_samples(self) -> list[tuple[Sample, str]]:
        img = Image.new("RGB", (12, 12))
        return [(Sample("no-depth", {"image": img}), "needs field 'image.depth'"),
                (Sample("misaligned", {"image": img, "image.depth": Image.new("L", (10, 12))}), "aligned")]


class TestCutSwitchRecipeContract(RecipeContract):
    name = "cut-switch"
    params = {"n": 2}

    def good_samples(self) -> list[Sample]:
        return [rgbd(2), rgbd(3)]

    def bad_samples(self) -> list[tuple[Sample, str]]:
        return [(Sample("rgb-only", {"image": Image.new("RGB", (12, 12))}), "image.depth")]


def test_augmentation_reverse_restores_input() -> None:
    s = rgbd(4)
    aug = crossaug.create("augmentation", "multimodal.cut-switch", keep_channels=False)
    out = aug.augment(s, np.random.default_rng(0))
    x0, y0, x1, y1 = out.lineage[-1].params["box"]
    rgb, depth = np.asarray(s.fields["image"]), np.asarray(s.fields["image.depth"])
    new_rgb, new_depth = np.asarray(out.fields["image"]), np.asarray(out.fields["image.depth"])
    assert out.fields["image.depth"].mode == "RGB"   # keep_channels=False: promoted so no colour is lost
    assert np.array_equal(new_depth[y0:y1, x0:x1], rgb[y0:y1, x0:x1])
    assert np.array_equal(new_rgb[y0:y1, x0:x1, 1], depth[y0:y1, x0:x1])
    mask = np.ones(depth.shape, bool)
    mask[y0:y1, x0:x1] = False
    assert np.array_equal(new_rgb[mask], rgb[mask]) and np.array_equal(new_depth[mask][:, 0], depth[mask])
    back = aug.reverse(out, out.lineage[-1].params)
    assert np.array_equal(np.asarray(back.fields["image"]), rgb)
    assert np.array_equal(np.asarray(back.fields["image.depth"])[..., 0], depth)


def test_default_keeps_depth_grey_and_three_fields_switch_at_random() -> None:
    s = rgbd(5)
    out = crossaug.create("augmentation", "multimodal.cut-switch").augment(s, np.random.default_rng(0))
    assert out.fields["image"].mode == "RGB" and out.fields["image.depth"].mode == "L"
    assert out.lineage[-1].params["perm"] == [1, 0]
    rng = np.random.default_rng(3)
    fields = {f: Image.fromarray(rng.integers(0, 256, size=(8, 8, 3)).astype(np.uint8))
              for f in ("image", "image.depth", "image.thermal")}
    three = Sample("tri", fields)
    aug = crossaug.create("augmentation", "multimodal.cut-switch", field=list(fields))
    perms = set()
    for seed in range(12):
        o = aug.augment(three, np.random.default_rng(seed))
        perms.add(tuple(o.lineage[-1].params["perm"]))
        back = aug.reverse(o, o.lineage[-1].params)
        assert all(np.array_equal(np.asarray(back.fields[f]), np.asarray(fields[f])) for f in fields)
    assert len(perms) > 2   # not always the same rotation
    rot = crossaug.create("augmentation", "multimodal.cut-switch", field=list(fields), mode="rotate")
    assert rot.augment(three, np.random.default_rng(0)).lineage[-1].params["shift"] == 1


def test_thermal_field_and_grey_pairs_stay_grey() -> None:
    s = Sample("t", {"image": Image.new("L", (10, 10), 5), "image.thermal": Image.new("L", (10, 10), 200)})
    aug = crossaug.create("augmentation", "multimodal.cut-switch", field=["image", "image.thermal"])
    out = aug.augment(s, np.random.default_rng(2))
    assert out.fields["image"].mode == "L" and out.fields["image.thermal"].mode == "L"
    assert sorted(np.unique(np.asarray(out.fields["image"])).tolist()) == [5, 200]


def test_recorded_box_outside_image_is_bad_sample() -> None:
    aug = crossaug.create("augmentation", "multimodal.cut-switch")
    with pytest.raises(BadSample, match="'rgbd0'.*outside"):
        aug.replay(rgbd(0), {"box": [0, 0, 50, 50], "shift": 1})


@pytest.mark.parametrize("bad", [{"field": ["image"]}, {"field": ["image", "text"]}, {"area": [0.5, 0.2]},
                                 {"area": [0, 0.5]}, {"aspect": [2.0]}, {"mode": "shuffle"}])
def test_bad_config(bad: dict) -> None:
    with pytest.raises(ConfigError):
        crossaug.create("augmentation", "multimodal.cut-switch", **bad)
