"""image.layout-to-image (GLIGEN) on a tiny random gated-attention pipeline loaded from a local directory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, create
from crossaug_image.text_to_image.layout import to_fractions
from crossaug_testing import TransformContract

pytestmark = pytest.mark.model

RUN = {"num_inference_steps": 4, "guidance_scale": 1.0, "device": "cpu", "height": 32, "width": 32}


@pytest.fixture(scope="module")
def gligen_dirs(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="GLIGEN needs crossaug-image[diffusers]")
    helper = _helper()
    root = tmp_path_factory.mktemp("gligen")
    helper.build_gligen(root / "gligen", tiny, plain_path=root / "plain")
    return str(root / "gligen"), str(root / "plain")


def _helper():
    import importlib.util

    spec = importlib.util.spec_from_file_location("crossaug_image_tests_tiny_gligen",
                                                  Path(__file__).with_name("tiny_gligen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _samples():
    return [Sample("g0", {"text": "a cat on grass"}, meta={"phrases": ["cat"], "boxes": [[0.1, 0.2, 0.6, 0.9]]}),
            Sample("g1", {"text": "a dog and a tree"},
                   meta={"phrases": ["dog", "tree"], "boxes": [[0.0, 0.5, 0.5, 1.0], [0.5, 0.0, 1.0, 0.6]]}),
            Sample("g2", {"text": "a red car"}),  # no layout: plain text-to-image
            Sample("g3", {"text": "a big house"}, meta={"phrases": ["cat"], "boxes": [[0.1, 0.2, 0.6, 0.9]]})]


def _px(img):
    return np.asarray(img.convert("RGB")).astype(int)


class TestLayoutToImageContract(TransformContract):
    name = "image.layout-to-image"

    @pytest.fixture(autouse=True)
    def _model(self, gligen_dirs):
        type(self).params = {"model": gligen_dirs[0], **RUN}

    def good_samples(self):
        return _samples()

    def bad_samples(self):
        return [(Sample("outside", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[0.5, 0.5, 1.2, 0.9]]}),
                 "outside"),
                (Sample("negative", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[-0.1, 0, 0.5, 0.5]]}),
                 "outside"),
                (Sample("flat", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[0.5, 0.5, 0.5, 0.9]]}),
                 "empty"),
                (Sample("count", {"text": "a cat and a dog"},
                        meta={"phrases": ["cat", "dog"], "boxes": [[0.1, 0.1, 0.4, 0.4]]}), "2 phrase(s) but 1 box"),
                (Sample("nophrases", {"text": "a cat"}, meta={"boxes": [[0.1, 0.1, 0.4, 0.4]]}),
                 "0 phrase(s) but 1 box"),
                (Sample("notext", {"image.x": None}), "needs field 'text'")]


def test_no_layout_equals_plain_text_to_image_from_the_same_seed(gligen_dirs):
    gligen, plain = gligen_dirs
    s = Sample("p", {"text": "a cat on grass"})
    ours = create("transform", "image.layout-to-image", model=gligen, **RUN)([s], [7])[0]
    ref = create("transform", "image.text-to-image.diffusers", model=plain, **RUN)([s], [7])[0]
    assert np.array_equal(_px(ours["image"]), _px(ref["image"]))
    p = ours.lineage[-1].params
    assert p["phrases"] == [] and p["boxes"] == [] and "grounding_steps" not in p


def test_boxes_change_the_image_and_reach_the_position_net(gligen_dirs):
    t = create("transform", "image.layout-to-image", model=gligen_dirs[0], **RUN)
    base = {"text": "a cat on grass"}
    plain, left, right = t([Sample("a", dict(base)),
                            Sample("b", dict(base), meta={"phrases": ["cat"], "boxes": [[0.0, 0.0, 0.5, 1.0]]}),
                            Sample("c", dict(base), meta={"phrases": ["cat"], "boxes": [[0.5, 0.0, 1.0, 1.0]]})],
                           [3, 3, 3])
    assert np.abs(_px(left["image"]) - _px(plain["image"])).max() > 2
    # the boxes and the phrases' text embeddings reach GLIGEN's position net as given
    seen = []
    hook = t.pipeline.unet.position_net.register_forward_hook(lambda m, a, kw, out: seen.append(kw), with_kwargs=True)
    try:
        t([Sample("d", dict(base), meta={"phrases": ["cat", "red house"],
                                         "boxes": [[0.0, 0.0, 0.5, 1.0], [0.25, 0.5, 1.0, 0.75]]})], [3])
    finally:
        hook.remove()
    assert len(seen) == 4  # the position net runs at each of the 4 steps (the gates act in the first beta share)
    boxes, masks, emb = seen[0]["boxes"], seen[0]["masks"], seen[0]["positive_embeddings"]
    assert boxes.shape == (1, 30, 4) and masks[0].tolist() == [1.0, 1.0] + [0.0] * 28
    assert np.allclose(boxes[0, :2].numpy(), [[0.0, 0.0, 0.5, 1.0], [0.25, 0.5, 1.0, 0.75]])
    pipe = t.pipeline
    want = pipe.text_encoder(**pipe.tokenizer(["cat", "red house"], padding=True, return_tensors="pt")).pooler_output
    assert np.allclose(emb[0, :2].detach().numpy(), want.detach().numpy(), atol=1e-6)
    p = left.lineage[-1].params
    assert p["phrases"] == ["cat"] and p["boxes"] == [[0.0, 0.0, 0.5, 1.0]]
    assert p["gligen_scheduled_sampling_beta"] == 0.3 and p["grounding_steps"] == 1  # int(0.3 * 4)
    assert left.lineage[-1].seed == 3 and p["prompt"] == "a cat on grass"


def test_beta_zero_grounds_no_step_and_equals_no_layout(gligen_dirs):
    # scheduled sampling with beta 0 switches the gated layers off before the first step
    t = create("transform", "image.layout-to-image", model=gligen_dirs[0], gligen_scheduled_sampling_beta=0.0, **RUN)
    boxed, plain = t([Sample("a", {"text": "a dog"}, meta={"phrases": ["dog"], "boxes": [[0.1, 0.1, 0.9, 0.9]]}),
                      Sample("b", {"text": "a dog"})], [5, 5])
    assert boxed.lineage[-1].params["grounding_steps"] == 0
    assert np.abs(_px(boxed["image"]) - _px(plain["image"])).max() <= 1


def test_pixel_boxes_are_fractions_of_the_output_size(gligen_dirs):
    frac = create("transform", "image.layout-to-image", model=gligen_dirs[0], **RUN)
    pix = create("transform", "image.layout-to-image", model=gligen_dirs[0], box_units="pixels", **RUN)
    a = frac([Sample("f", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[0.25, 0.0, 0.75, 0.5]]})], [1])[0]
    b = pix([Sample("f", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[8, 0, 24, 16]]})], [1])[0]
    assert np.array_equal(_px(a["image"]), _px(b["image"]))
    assert b.lineage[-1].params["boxes"] == [[0.25, 0.0, 0.75, 0.5]]
    with pytest.raises(BadSample, match="outside the 32x32 image") as info:
        pix([Sample("big", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[8, 0, 40, 16]]})], [1])
    assert info.value.sample_id == "big"


def test_layout_may_come_from_fields_too():
    t = create("transform", "image.layout-to-image", model="x/gligen")
    s = Sample("f", {"text": "a cat", "text.phrases": None}, meta={"p": ["cat"], "b": [[0, 0, 1, 1]]})
    t2 = create("transform", "image.layout-to-image", model="x/gligen", phrases_field="p", boxes_field="b")
    assert t2.layout_of(s) == (["cat"], [[0.0, 0.0, 1.0, 1.0]])
    assert t.layout_of(Sample("n", {"text": "a cat"})) == ([], [])


def test_too_many_objects_and_bad_config():
    t = create("transform", "image.layout-to-image", model="x/gligen")
    many = Sample("m", {"text": "cats"}, meta={"phrases": ["cat"] * 31, "boxes": [[0, 0, 0.5, 0.5]] * 31})
    with pytest.raises(BadSample, match="at most 30"):
        t.layout_of(many)
    for bad in ({"box_units": "inches"}, {"gligen_scheduled_sampling_beta": 1.5}, {"phrases_field": ""}):
        with pytest.raises(ConfigError):
            create("transform", "image.layout-to-image", model="x/gligen", **bad)


def test_to_fractions_plain():
    assert to_fractions([[0, 0, 16, 8]], (32, 16), "pixels", "s", "boxes") == [[0.0, 0.0, 0.5, 0.5]]
    with pytest.raises(BadSample, match="must be"):
        to_fractions([[0, 0, 1]], None, "fractions", "s", "boxes")
