"""Classic image augmentations: contracts plus hand-checked behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import ConfigError, Sample, create
from crossaug_image.augmentations.color_jitter import jitter
from crossaug_image.augmentations.crop import sample_crop_box
from crossaug_image.augmentations.random_erasing import erase
from crossaug_testing import AugmentationContract
from PIL import Image


def _img(seed: int = 0, size: tuple[int, int] = (24, 16), mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode)


GOOD = [Sample("a", {"image": _img(0)}), Sample("b", {"image": _img(1, (16, 20), "L")}, label="x")]
BAD = [(Sample("tiny", {"image": Image.new("RGB", (1, 1))}), "smallest side"),
       (Sample("noimg", {"text": "hello"}), "needs field")]


class TestFlipContract(AugmentationContract):
    name = "image.flip"
    params = {"horizontal": 0.5, "vertical": 0.5}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return BAD


class TestCropContract(AugmentationContract):
    name = "image.crop"
    params = {"scale": [0.3, 0.9]}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return BAD


class TestColorJitterContract(AugmentationContract):
    name = "image.color-jitter"
    params = {}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return BAD


class TestRandomErasingContract(AugmentationContract):
    name = "image.random-erasing"
    params = {"p": 1.0}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return BAD


class TestRotateContract(AugmentationContract):
    name = "image.rotate"
    params = {"degrees": 30.0}

    def good_samples(self):
        return GOOD

    def bad_samples(self):
        return BAD


def test_flip_both_axes_is_180_rotation():
    img = _img(3)
    out = create("augmentation", "image.flip").replay(Sample("s", {"image": img}),
                                                        {"horizontal": True, "vertical": True})
    assert np.array_equal(np.asarray(out["image"]), np.asarray(img)[::-1, ::-1])


def test_crop_box_stays_inside_and_keeps_area_fraction():
    rng = np.random.default_rng(0)
    for _ in range(50):
        left, top, w, h = sample_crop_box(60, 40, (0.25, 0.5), (0.5, 2.0), rng)
        assert 0 <= left and left + w <= 60 and 0 <= top and top + h <= 40
        assert 0.2 <= w * h / 2400 <= 0.55
        assert 0.45 <= w / h <= 2.2


def test_crop_output_size_and_content():
    img = Image.fromarray(np.arange(16 * 16, dtype=np.uint8).reshape(16, 16) % 251, mode="L")
    aug = create("augmentation", "image.crop", size=[8, 8])
    out = aug.replay(Sample("s", {"image": img}), {"box": [4, 4, 8, 8]})["image"]
    assert out.size == (8, 8)
    assert np.array_equal(np.asarray(out), np.asarray(img)[4:12, 4:12])  # same size: a plain crop


def test_jitter_identity_factors_leave_image_unchanged():
    img = _img(5)
    out = jitter(img, ["hue", "brightness", "contrast", "saturation"],
                 {"brightness": 1.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0})
    assert np.array_equal(np.asarray(out), np.asarray(img))


def test_jitter_brightness_halves_values():
    img = Image.new("RGB", (8, 8), (200, 100, 50))
    out = jitter(img, ["brightness"], {"brightness": 0.5, "contrast": 1, "saturation": 1, "hue": 0})
    assert np.asarray(out)[0, 0].tolist() == [100, 50, 25]


def test_erase_random_is_replayable_and_local():
    img = Image.new("RGB", (10, 10), (255, 255, 255))
    a, b = np.asarray(erase(img, [1, 1, 3, 2], "random", 9)), np.asarray(erase(img, [1, 1, 3, 2], "random", 9))
    assert np.array_equal(a, b)
    outside = np.ones((10, 10), bool)
    outside[1:3, 1:4] = False
    assert (a[outside] == 255).all()


def test_erasing_probability_zero_never_erases():
    aug = create("augmentation", "image.random-erasing", p=0.0)
    s = Sample("s", {"image": _img(2)})
    for seed in range(5):
        assert np.array_equal(np.asarray(aug.augment(s, np.random.default_rng(seed))["image"]),
                              np.asarray(s["image"]))


def test_augmentation_on_secondary_image_field():
    s = Sample("s", {"image": _img(0), "image.imagined": _img(1)})
    out = create("augmentation", "image.flip", horizontal=1.0, field="image.imagined").augment(
        s, np.random.default_rng(0))
    assert np.array_equal(np.asarray(out["image"]), np.asarray(s["image"]))
    assert np.array_equal(np.asarray(out["image.imagined"]), np.asarray(s["image.imagined"])[:, ::-1])


@pytest.mark.parametrize("name,params", [("image.flip", {"horizontal": 1.5}), ("image.crop", {"scale": [0.9, 0.1]}),
                                         ("image.color-jitter", {"hue": 0.7}),
                                         ("image.random-erasing", {"value": "blue"}),
                                         ("image.rotate", {"degrees": 0}), ("image.flip", {"field": "text"})])
def test_bad_parameters_are_config_errors(name, params):
    with pytest.raises(ConfigError):
        create("augmentation", name, **params)
