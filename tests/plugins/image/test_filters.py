"""Filters: grayscale detector, CLIP score (tiny random CLIP), label confidence."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, create
from crossaug_image.filters.grayscale import chroma, colour_score, hue_concentration, is_grayscale, to_lab
from crossaug_image.filters.label_confidence import mean_brightness_is_label
from crossaug_testing import FilterContract
from PIL import Image, ImageOps


def _img(color, mode="RGB"):
    return Image.new(mode, (16, 16), color)


class TestGrayscaleContract(FilterContract):
    name = "image.grayscale"
    params = {"threshold": 0.05}

    def pairs(self):
        p = Sample("p", {"image": _img((10, 200, 30))})
        return [(Sample("c", {"image": _img((10, 200, 30))}), p, True),
                (Sample("g", {"image": _img((120, 120, 120))}), p, False),
                (Sample("l", {"image": _img(200, "L")}), p, False)]


def test_chroma_hand_values():
    assert chroma(_img((0, 51, 102))) == pytest.approx(0.4)
    img = Image.new("RGB", (2, 1))
    img.putpixel((0, 0), (255, 0, 0))  # spread 255 on one pixel, 0 on the other
    assert chroma(img) == pytest.approx(0.5)
    assert is_grayscale(_img((100, 101, 100)), method="spread") and not is_grayscale(_img((100, 140, 100)),
                                                                                     method="spread")


def _photo(seed=0, size=64):
    """A smooth field of several colours, like a colour photo's."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.uniform(0, 255, (4, 4, 3)).astype(np.uint8)).resize((size, size),
                                                                                   Image.Resampling.BICUBIC)


def test_tinted_monochrome_is_black_and_white():
    f = create("filter", "image.grayscale")
    for seed in range(5):
        photo = _photo(seed)
        grey = photo.convert("L")
        tinted = {"grey": grey.convert("RGB"), "grey L": grey,
                  "sepia": ImageOps.colorize(grey, (40, 26, 13), (255, 240, 192)),
                  "strong sepia": ImageOps.colorize(grey, (60, 30, 0), (255, 220, 150)),
                  "blue-tinted": ImageOps.colorize(grey, (5, 10, 60), (200, 220, 255)),
                  "cyanotype": ImageOps.colorize(grey, (0, 30, 80), (230, 240, 255))}
        for what, img in tinted.items():
            assert colour_score(img) < 0.005 and is_grayscale(img), (what, seed, colour_score(img))
        assert chroma(tinted["sepia"]) > 0.1  # the channel spread alone lets sepia through
        assert colour_score(photo) > 0.1 and not is_grayscale(photo)
        cands = [Sample(k, {"image": v}) for k, v in {**tinted, "photo": photo}.items()]
        kept = [o.id for o in f(cands, cands) if o.kept]
        assert kept == ["photo"]
    # colour images with one dominant hue still pass: a vivid colour, a noisy tinted one
    assert not is_grayscale(_img((10, 200, 30))) and not is_grayscale(_img((200, 30, 30)))
    assert hue_concentration(tinted["sepia"]) > 0.99 and hue_concentration(_photo()) < 0.6
    # CIELAB of sRGB white, black and pure red (reference values)
    lab = to_lab(Image.fromarray(np.array([[[255, 255, 255], [0, 0, 0], [255, 0, 0]]], np.uint8)))[0]
    assert np.allclose(lab, [[100, 0, 0], [0, 0, 0], [53.24, 80.09, 67.20]], atol=0.05)
    with pytest.raises(ConfigError):
        create("filter", "image.grayscale", method="hue")


class TestClipScoreContract(FilterContract):
    name = "image.clip-score"

    @pytest.fixture(autouse=True)
    def _model(self, clip_dir):
        type(self).params = {"model": clip_dir, "min_score": -1.0, "device": "cpu"}

    def pairs(self):
        p = Sample("p", {"image": _img((0, 0, 255)), "text": "a blue car"})
        return [(Sample("c1", {"image": _img((200, 0, 0)), "text": "a red car"}), p, True),
                (Sample("c2", {"image": _img((0, 200, 0)), "text": "a dog on grass"}), p, True)]


@pytest.mark.model
def test_clip_score_is_a_cosine_and_threshold_rejects(clip_dir):
    f = create("filter", "image.clip-score", model=clip_dir, min_score=1.0, device="cpu")
    c = Sample("c", {"image": _img((200, 0, 0)), "text": "a red car"}, label="car")
    s = f.score_batch([c], [c])[0]
    assert -1.0 <= s <= 1.0
    out = f([c], [c])[0]
    assert not out.kept and "image.clip-score" in out.reason
    by_label = create("filter", "image.clip-score", model=clip_dir, text_from="label", device="cpu")
    same = create("filter", "image.clip-score", model=clip_dir, text_field="t", device="cpu")
    c2 = Sample("c2", {"image": c["image"], "t": "a photo of a car"}, label="car")
    assert by_label.score_batch([c2], [c2])[0] == pytest.approx(same.score_batch([c2], [c2])[0], abs=1e-6)
    with pytest.raises(BadSample):
        by_label.score_batch([Sample("nolabel", {"image": c["image"]})], [c])


class TestLabelConfidenceContract(FilterContract):
    name = "image.label-confidence"
    params = {"classifier": "crossaug_image.filters.label_confidence:mean_brightness_is_label",
              "min_confidence": 0.6}

    def pairs(self):
        bright = Sample("p", {"image": _img(230, "L")}, label="bright")
        return [(Sample("c1", {"image": _img((250, 250, 250))}), bright, True),
                (Sample("c2", {"image": _img((20, 20, 20))}), bright, False)]


def test_label_confidence_accepts_a_callable_and_survives_pickling():
    f = create("filter", "image.label-confidence", classifier=mean_brightness_is_label)
    assert f.classifier == "crossaug_image.filters.label_confidence:mean_brightness_is_label"
    again = pickle.loads(pickle.dumps(f))
    dark = Sample("d", {"image": _img(0, "L")}, label="dark")
    assert again.score_batch([dark], [dark]) == [1.0]


def test_label_confidence_errors():
    with pytest.raises(ConfigError):
        create("filter", "image.label-confidence", classifier="no.such.module:fn")
    with pytest.raises(ConfigError):
        create("filter", "image.label-confidence", classifier=lambda images, labels: [1.0])
    f = create("filter", "image.label-confidence", classifier=mean_brightness_is_label)
    with pytest.raises(BadSample) as info:
        f.score_batch([Sample("u", {"image": _img(0, "L")})], [Sample("u", {"image": _img(0, "L")})])
    assert "'u'" in str(info.value)


@pytest.mark.model
def test_clip_score_nan_is_an_error_of_that_candidate(clip_dir, tiny):
    import torch
    from crossaug import BadSample, Sample, create

    f = create("filter", "image.clip-score", model=clip_dir, device="cpu", min_score=-1.0)
    cand = [Sample("c0", {"image": tiny.make_image(0), "text": "a cat"})]
    f.score_batch(cand, cand)  # loads the model
    with torch.no_grad():
        for p in f._model.visual_projection.parameters():
            p.fill_(float("nan"))
    with pytest.raises(BadSample, match="NaN or infinite similarity") as info:
        f.score_batch(cand, cand)
    assert info.value.sample_id == "c0"


def _plain_lab(img):
    """CIELAB from the per-pixel formulas (sRGB -> linear light -> XYZ D65 -> L*a*b*)."""
    rgb = np.asarray(img.convert("RGB"), dtype=np.float64) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def test_scores_from_the_level_table_equal_the_per_pixel_formulas():
    """sRGB -> linear light is read from a table of the 256 levels (a third of a score's time):
    every score must stay what the per-pixel formulas give, bit for bit."""
    rng = np.random.default_rng(0)
    every = np.stack(np.meshgrid(np.arange(256), np.arange(256), np.arange(0, 256, 51), indexing="ij"), -1)
    images = [Image.fromarray(every.reshape(256, -1, 3).astype(np.uint8))]
    for _ in range(20):
        a = rng.integers(0, 256, (int(rng.integers(1, 60)), int(rng.integers(1, 60)), 3), dtype=np.uint8)
        images += [Image.fromarray(a), Image.fromarray(a).convert("RGBA"), Image.fromarray(a).convert("P")]
    for img in images:
        lab = _plain_lab(img)
        assert np.array_equal(to_lab(img), lab)
        ab = lab[..., 1:].reshape(-1, 2)
        c, tint = np.hypot(ab[:, 0], ab[:, 1]), float(np.hypot(*ab.mean(axis=0)))
        assert colour_score(img) == (max(float(c.mean()) - tint, 0.0) + max(tint - 40.0, 0.0)) / 100.0
        total = float(c.sum())
        assert hue_concentration(img) == (1.0 if total < 1e-9 else float(np.hypot(*ab.sum(axis=0)) / total))
        rgb = np.asarray(img.convert("RGB"), dtype=np.int16)
        assert chroma(img) == float((rgb.max(axis=2) - rgb.min(axis=2)).mean() / 255.0)


def test_the_grayscale_filter_scores_a_shared_image_once():
    img, grey = Image.new("RGB", (8, 8), (200, 30, 30)), Image.new("RGB", (8, 8), (90, 90, 90))
    parents = [Sample("p", {"image": img, "text": "t"})] * 4
    cands = [Sample(f"p~{i}", {"image": img if i < 3 else grey, "text": f"t{i}"}) for i in range(4)]
    f = create("filter", "image.grayscale")
    assert f.score_batch(cands, parents) == [colour_score(img)] * 3 + [colour_score(grey)]
