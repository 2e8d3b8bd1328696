"""img2img, inpainting and InstructPix2Pix on tiny random diffusers pipelines loaded from local directories."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, create
from crossaug_image.editing.img2img import check_strength
from crossaug_image.editing.inpaint import boxes_mask
from crossaug_testing import TransformContract
from PIL import Image

pytestmark = pytest.mark.model

RUN = {"num_inference_steps": 4, "guidance_scale": 1.0, "device": "cpu"}


@pytest.fixture(scope="module")
def inpaint_dir(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="inpainting needs crossaug-image[diffusers]")
    return str(tiny.build_stable_diffusion(tmp_path_factory.mktemp("inpaint"), in_channels=9,
                                           pipeline="StableDiffusionInpaintPipeline"))


@pytest.fixture(scope="module")
def pix2pix_dir(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="InstructPix2Pix needs crossaug-image[diffusers]")
    return str(tiny.build_stable_diffusion(tmp_path_factory.mktemp("pix2pix"), in_channels=8,
                                           pipeline="StableDiffusionInstructPix2PixPipeline"))


def _images(tiny):
    return [Sample("e0", {"image": tiny.make_image(0, (48, 40)), "text": "a cat on grass"}, label="cat",
                   meta={"boxes": [[8, 8, 24, 32]]}),
            Sample("e1", {"image": tiny.make_image(1, (32, 32)), "text": "a dog in snow"}, label="dog",
                   meta={"boxes": [[0, 0, 16, 16], [20, 20, 32, 32]]}),
            Sample("e2", {"image": tiny.make_image(2, (48, 40)), "text": "a red car"}, label="car",
                   meta={"boxes": [[0.5, 0.5, 1.0, 1.0]]})]


def _px(img):
    return np.asarray(img.convert("RGB")).astype(int)


class TestImg2ImgContract(TransformContract):
    name = "image.img2img"

    @pytest.fixture(autouse=True)
    def _model(self, sd_dir, tiny):
        type(self).params = {"model": sd_dir, "strength": [0.3, 0.9], **RUN}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)

    def bad_samples(self):
        return [(Sample("notext", {"image": Image.new("RGB", (16, 16))}), "prompt field 'text'"),
                (Sample("noimg", {"text": "a cat"}), "needs field 'image'")]


class TestInpaintContract(TransformContract):
    name = "image.inpaint"

    @pytest.fixture(autouse=True)
    def _model(self, inpaint_dir, tiny):
        type(self).params = {"model": inpaint_dir, **RUN}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)[:2]

    def bad_samples(self):
        img = Image.new("RGB", (32, 24))
        return [(Sample("outside", {"image": img, "text": "a cat"}, meta={"boxes": [[10, 10, 40, 20]]}), "outside"),
                (Sample("negative", {"image": img, "text": "a cat"}, meta={"boxes": [[-1, 0, 8, 8]]}), "outside"),
                (Sample("flat", {"image": img, "text": "a cat"}, meta={"boxes": [[5, 5, 5, 9]]}), "empty"),
                (Sample("noboxes", {"image": img, "text": "a cat"}), "no boxes")]


class TestInstructEditContract(TransformContract):
    name = "image.instruct-edit"

    @pytest.fixture(autouse=True)
    def _model(self, pix2pix_dir, tiny):
        type(self).params = {"model": pix2pix_dir, "prompt_field": None, "prompt_template": "make the {label} red",
                             **RUN}
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)[:2]

    def bad_samples(self):
        return [(Sample("nolabel", {"image": Image.new("RGB", (16, 16))}), "has no label")]


# -- img2img: both ends of the strength range ---------------------------------


def test_strength_zero_returns_the_input_exactly(sd_dir, tiny):
    t = create("transform", "image.img2img", model=sd_dir, strength=0.0, **RUN)
    s = _images(tiny)[0]
    out = t([s], [3])[0]
    assert np.array_equal(_px(out["image"]), _px(s["image"]))
    p = out.lineage[-1].params
    assert p["strength"] == 0.0 and p["denoising_steps"] == 0 and p["shortcut"] is True
    assert t._pipe is None, "strength 0 must not even load the pipeline"


def test_strength_below_one_step_is_the_input(sd_dir, tiny):
    # 4 steps x 0.2 = 0.8 -> no denoising step: the input itself, recorded as such
    out = create("transform", "image.img2img", model=sd_dir, strength=0.2, **RUN)([_images(tiny)[0]], [0])[0]
    assert np.array_equal(_px(out["image"]), _px(_images(tiny)[0]["image"]))
    assert out.lineage[-1].params["denoising_steps"] == 0


def test_strength_one_matches_text_to_image_from_the_same_seed(sd_dir, tiny):
    s = _images(tiny)[0]  # 48 x 40
    edited = create("transform", "image.img2img", model=sd_dir, strength=1.0, **RUN)([s], [7])[0]
    t2i = create("transform", "image.text-to-image.diffusers", model=sd_dir, height=40, width=48, **RUN)
    generated = t2i([Sample("t", {"text": s["text"]})], [7])[0]
    diff = np.abs(_px(edited["image"]) - _px(generated["image"]))
    assert diff.max() <= 2, f"strength 1 differs from text-to-image by up to {diff.max()}/255"
    assert edited.lineage[-1].params["denoising_steps"] == 4
    other = t2i([Sample("t", {"text": s["text"]})], [8])[0]
    assert np.abs(_px(edited["image"]) - _px(other["image"])).max() > 2, "the seed must matter"


def test_middle_strength_uses_the_input(sd_dir, tiny):
    # between the ends the output depends on the input image (unlike strength 1)
    t = create("transform", "image.img2img", model=sd_dir, strength=0.75, **RUN)
    a, b = _images(tiny)[0], _images(tiny)[2]  # same size, same seed, different images and prompts
    b = b.replace(fields={**b.fields, "text": a["text"]})
    oa, ob = t([a], [5])[0], t([b], [5])[0]
    assert oa.lineage[-1].params["denoising_steps"] == 3
    assert np.abs(_px(oa["image"]) - _px(ob["image"])).max() > 2
    assert not np.array_equal(_px(oa["image"]), _px(a["image"]))


def test_strength_range_is_sampled_per_seed_and_recorded(sd_dir):
    t = create("transform", "image.img2img", model=sd_dir, strength=[0.3, 0.7], **RUN)
    values = [t.row_settings(None, seed)["strength"] for seed in range(50)]
    assert all(0.3 <= v <= 0.7 for v in values) and len(set(values)) > 40
    assert values == [t.row_settings(None, seed)["strength"] for seed in range(50)]
    assert check_strength("x", 0.5) == (0.5, 0.5)
    for bad in ([0.7, 0.3], 1.5, [-0.1, 0.2], "0.5", [0.1, 0.2, 0.3]):
        with pytest.raises(ConfigError):
            create("transform", "image.img2img", strength=bad)


def test_prompt_from_template_with_label(sd_dir, tiny):
    t = create("transform", "image.img2img", model=sd_dir, strength=0.5, prompt_field=None,
               prompt_template="a photo of a {label}", **RUN)
    out = t([_images(tiny)[1]], [0])[0]
    assert out.lineage[-1].params["prompt"] == "a photo of a dog"
    with pytest.raises(ConfigError):
        create("transform", "image.img2img", prompt_field=None, prompt_template="{text}")


# -- inpainting ---------------------------------------------------------------


def test_inpaint_keeps_pixels_outside_the_mask(inpaint_dir, tiny):
    t = create("transform", "image.inpaint", model=inpaint_dir, **RUN)
    s = _images(tiny)[0]  # box [8, 8, 24, 32] on a 48 x 40 image
    out = t([s], [1])[0]
    before, after = _px(s["image"]), _px(out["image"])
    inside = np.zeros(before.shape[:2], bool)
    inside[8:32, 8:24] = True
    assert np.array_equal(after[~inside], before[~inside])
    assert np.abs(after[inside] - before[inside]).mean() > 5, "the masked region must be re-generated"
    assert out.lineage[-1].params["strength"] == 1.0


def test_inpaint_fraction_boxes_and_mask_images_agree(inpaint_dir, tiny):
    s = _images(tiny)[2]  # fractions [0.5, 0.5, 1, 1] of 48 x 40 -> pixels [24, 20, 48, 40]
    frac = create("transform", "image.inpaint", model=inpaint_dir, box_units="fractions", **RUN)([s], [2])[0]
    mask = Image.new("L", (48, 40), 0)
    mask.paste(255, (24, 20, 48, 40))
    by_mask = create("transform", "image.inpaint", model=inpaint_dir, mask_field="image.mask", **RUN)(
        [s.replace(fields={**s.fields, "image.mask": mask})], [2])[0]
    assert np.array_equal(_px(frac["image"]), _px(by_mask["image"]))
    assert np.array_equal(_px(frac["image"])[:20], _px(s["image"])[:20])


def test_inpaint_bad_masks_name_the_sample(inpaint_dir):
    t = create("transform", "image.inpaint", model=inpaint_dir, mask_field="image.mask", **RUN)
    img = Image.new("RGB", (32, 24))
    for sid, mask, why in (("small", Image.new("L", (16, 16), 255), "outside the image"),
                           ("blank", Image.new("L", (32, 24), 0), "empty")):
        with pytest.raises(BadSample, match=why) as info:
            t([Sample(sid, {"image": img, "text": "a cat", "image.mask": mask})], [0])
        assert sid in str(info.value)
    with pytest.raises(BadSample, match="outside"):
        boxes_mask([[0, 0, 1.2, 0.5]], (10, 10), "fractions", "f", "boxes")


# -- InstructPix2Pix ------------------------------------------------------------


def test_instruct_edit_guidance_scales_matter_and_are_recorded(pix2pix_dir, tiny):
    s = _images(tiny)[1]
    base = dict(model=pix2pix_dir, num_inference_steps=2, device="cpu")
    a = create("transform", "image.instruct-edit", image_guidance_scale=1.5, guidance_scale=7.5, **base)([s], [0])[0]
    b = create("transform", "image.instruct-edit", image_guidance_scale=3.0, guidance_scale=7.5, **base)([s], [0])[0]
    assert a.lineage[-1].params["image_guidance_scale"] == 1.5 and a.lineage[-1].params["guidance_scale"] == 7.5
    assert a.lineage[-1].params["prompt"] == "a dog in snow"
    assert not np.array_equal(_px(a["image"]), _px(b["image"]))
    with pytest.raises(ConfigError):
        create("transform", "image.instruct-edit", image_guidance_scale=0.5)


# -- safety checker hits and non-finite pixels ------------------------------------


def _editor(kind, sd_dir, inpaint_dir, pix2pix_dir, **extra):
    model = {"image.img2img": sd_dir, "image.inpaint": inpaint_dir, "image.instruct-edit": pix2pix_dir}[kind]
    return create("transform", kind, model=model, **RUN, **extra)


@pytest.mark.parametrize("kind, extra", [("image.img2img", {"strength": 0.5}), ("image.img2img", {"strength": 1.0}),
                                         ("image.inpaint", {}), ("image.instruct-edit", {})])
@pytest.mark.parametrize("weight, flagged", [(-2.0, True), (2.0, False)])
def test_safety_checker_hits_are_rejections_with_reason_nsfw(kind, extra, weight, flagged, sd_dir, inpaint_dir,
                                                             pix2pix_dir, tiny):
    from crossaug_image.text_to_image.base import NSFW_REASON

    t = _editor(kind, sd_dir, inpaint_dir, pix2pix_dir, **extra)
    t.pipeline.safety_checker, t.pipeline.feature_extractor = tiny.build_safety_checker(weight)
    out = t(_images(tiny)[:2], [1, 2])
    assert [o.kept for o in out] == [not flagged] * 2
    for o in out:
        assert o.lineage[-1].params["nsfw"] is flagged
        if flagged:
            assert o.reason == NSFW_REASON


@pytest.mark.parametrize("kind", ["image.img2img", "image.inpaint", "image.instruct-edit"])
def test_nan_pixels_are_an_error_of_that_sample(kind, sd_dir, inpaint_dir, pix2pix_dir, tiny):
    import torch

    t = _editor(kind, sd_dir, inpaint_dir, pix2pix_dir, **({"strength": 0.5} if kind == "image.img2img" else {}))
    with torch.no_grad():  # a broken decoder: every pixel NaN
        t.pipeline.vae.decoder.conv_out.bias.fill_(float("nan"))
    with pytest.raises(BadSample, match="NaN or infinite pixels") as info:
        t(_images(tiny)[:2], [1, 2])
    assert info.value.sample_id == "e0" and info.value.field == "image"
