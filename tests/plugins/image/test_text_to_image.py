"""Text-to-image on a tiny random Stable Diffusion pipeline loaded from a local directory."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from crossaug import ConfigError, Produced, Sample, Transform, create
from crossaug_image.filters.grayscale import chroma
from crossaug_image.text_to_image.base import fill_template
from crossaug_image.text_to_image.resample import ResampleGrayscale, retry_seed
from crossaug_testing import TransformContract
from PIL import Image

pytestmark = pytest.mark.model

T2I = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32, "device": "cpu"}


def _texts():
    return [Sample("t0", {"text": "a photo of a cat"}, label="cat"), Sample("t1", {"text": "a dog on grass"})]


BAD = [(Sample("empty", {"text": "   "}), "whitespace"), (Sample("noimg", {"image": Image.new("RGB", (9, 9))}),
                                                          "needs field 'text'")]


class TestDiffusersContract(TransformContract):
    name = "image.text-to-image.diffusers"

    @pytest.fixture(autouse=True)
    def _model(self, sd_dir):
        type(self).params = {"model": sd_dir, **T2I}

    def good_samples(self):
        return _texts()

    def bad_samples(self):
        return BAD


class TestResampleGrayscaleContract(TransformContract):
    name = "image.text-to-image.resample-grayscale"

    @pytest.fixture(autouse=True)
    def _model(self, sd_dir):
        type(self).params = {"transform": create("transform", "image.text-to-image.diffusers", model=sd_dir, **T2I),
                             "threshold": 0.5, "max_retries": 1}

    def good_samples(self):
        return _texts()

    def bad_samples(self):
        return BAD


def test_fill_template():
    assert fill_template("{text}", "a  cat", None) == "a cat"
    assert fill_template("a photo of a {label}, {text}", "on a sofa", "tabby_cat") == \
        "a photo of a tabby cat, on a sofa"


def test_images_depend_on_seed_and_size(sd_dir):
    t = create("transform", "image.text-to-image.diffusers", model=sd_dir, **{**T2I, "height": 48, "width": 40})
    s = _texts()[:1]
    a, b, a2 = (t(s, [seed])[0]["image"] for seed in (1, 2, 1))
    assert a.size == (40, 48) and a.mode == "RGB"
    assert np.array_equal(np.asarray(a), np.asarray(a2))
    assert not np.array_equal(np.asarray(a), np.asarray(b))
    assert t(s, [1])[0].lineage[-1].params["prompt"] == "a photo of a cat"


def test_bad_parameters():
    for params in ({"height": 30}, {"num_inference_steps": 0}, {"prompt_template": "no text"}, {"device": "gpu"}):
        with pytest.raises(ConfigError):
            create("transform", "image.text-to-image.diffusers", **params)


class _StripedOrGrey(Transform):
    """A stand-in generator: grey images for even seeds, coloured for odd ones."""

    name: ClassVar[str] = ""
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "image"

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def transform_batch(self, samples, seeds):
        self.calls.append(list(seeds))
        return [Produced(Image.new("RGB", (16, 16), (80, 80, 80) if s % 2 == 0 else (200, 30, 30)), {"s": s})
                for s in seeds]


def test_resample_redraws_grey_images_with_recorded_seeds():
    inner = _StripedOrGrey()
    t = ResampleGrayscale(inner, threshold=0.02, max_retries=5)
    seeds = [4, 7]
    out = t.transform_batch(_texts(), seeds)
    assert chroma(out[1].payload) > 0.5 and out[1].info["retries"] == 0  # colour at first try
    info = out[0].info
    assert info["retries"] >= 1 and info["grayscale"] is (info["retries"] == 5 and chroma(out[0].payload) < 0.02)
    assert info["retry_seeds"] == [retry_seed(4, k) for k in range(1, info["retries"] + 1)]
    assert inner.calls[0] == seeds and all(len(c) == 1 for c in inner.calls[1:])  # only the grey one redrawn


def test_resample_redraws_sepia_too_unless_told_to_check_grey_only():
    from PIL import ImageOps

    class SepiaThenColour(_StripedOrGrey):
        def transform_batch(self, samples, seeds):
            self.calls.append(list(seeds))
            grey = Image.linear_gradient("L").resize((16, 16))
            return [ImageOps.colorize(grey, (40, 26, 13), (255, 240, 192)) if len(self.calls) == 1
                    else Image.new("RGB", (16, 16), (200, 30, 30)) for _ in seeds]

    out = ResampleGrayscale(SepiaThenColour(), max_retries=2).transform_batch(_texts()[:1], [3])[0]
    assert out.info["retries"] == 1 and out.info["grayscale"] is False  # sepia counted as black-and-white
    grey_only = ResampleGrayscale(SepiaThenColour(), max_retries=2, method="spread")
    assert grey_only.transform_batch(_texts()[:1], [3])[0].info["retries"] == 0  # the channel spread lets it by


def test_resample_gives_up_after_max_retries():
    class AlwaysGrey(_StripedOrGrey):
        def transform_batch(self, samples, seeds):
            return [Image.new("L", (16, 16), 10).convert("RGB") for _ in seeds]

    out = ResampleGrayscale(AlwaysGrey(), max_retries=2).transform_batch(_texts()[:1], [3])[0]
    assert out.info["retries"] == 2 and out.info["grayscale"] is True


def test_resample_scores_each_drawn_image_once(monkeypatch):
    """Scoring a 512x512 image takes about 20 ms: the images kept from an earlier attempt were scored
    again on every retry and once more at the end (3 draws scored 6 times here)."""
    from crossaug_image.text_to_image import resample

    scored = []
    real = resample.monochrome_score
    monkeypatch.setattr(resample, "monochrome_score", lambda img, method="tint": scored.append(id(img)) or
                        real(img, method))
    inner = _StripedOrGrey()
    out = ResampleGrayscale(inner, threshold=0.02, max_retries=3).transform_batch(_texts(), [4, 7])
    drawn = sum(len(c) for c in inner.calls)
    assert drawn == 2 + out[0].info["retries"] > 2 and len(scored) == drawn  # the grey one was redrawn
    assert out[1].info["retries"] == 0 and out[1].info["grayscale"] is False
