"""Text-to-image settings: schedulers, per-model defaults, nsfw rejections, non-finite pixels, lineage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug_image.text_to_image.base import NSFW_REASON
from crossaug_image.text_to_image.settings import check_scheduler, model_family, resolve_settings

T2I = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32, "device": "cpu"}
TEXTS = [Sample("t0", {"text": "a photo of a cat"}, label="cat"), Sample("t1", {"text": "a dog on grass"})]


def test_per_model_defaults_follow_the_family():
    assert resolve_settings("stabilityai/sd-turbo", None, None, None)[
        "num_inference_steps"] == 1  # SD-Turbo model card: 1 step,
    assert resolve_settings("stabilityai/sdxl-turbo", None, None, None)["guidance_scale"] == 0.0  # no guidance
    std = resolve_settings("stable-diffusion-v1-5/stable-diffusion-v1-5", None, None, None)
    assert (std["num_inference_steps"], std["guidance_scale"], std["scheduler"]) == (50, 7.5, None)
    lcm = resolve_settings("/models/x", None, None, None, {"scheduler": {"_class_name": "LCMScheduler"},
                                                           "unet": {"time_cond_proj_dim": 256}})
    assert (lcm["family"], lcm["num_inference_steps"], lcm["scheduler"], lcm["guidance_scale"]) == ("lcm", 4, "lcm",
                                                                                                  8.5)
    assert model_family("latent-consistency/lcm-lora-sdv1-5") == "lcm"
    assert resolve_settings("stabilityai/sd-turbo", 4, 0.5, "ddim")["num_inference_steps"] == 4  # explicit wins
    assert check_scheduler("DPM++") == "dpm-solver++"
    with pytest.raises(ConfigError, match="scheduler must be one of"):
        check_scheduler("heun-typo")


@pytest.mark.model
@pytest.mark.parametrize("name, cls", [("ddim", "DDIMScheduler"), ("euler", "EulerDiscreteScheduler"),
                                       ("dpm-solver++", "DPMSolverMultistepScheduler"), ("lcm", "LCMScheduler")])
def test_scheduler_parameter_sets_the_pipelines_scheduler(sd_dir, name, cls):
    t = create("transform", "image.text-to-image.diffusers", model=sd_dir, scheduler=name, **T2I)
    out = t(TEXTS[:1], [3])
    assert type(t.pipeline.scheduler).__name__ == cls
    if name == "dpm-solver++":
        assert t.pipeline.scheduler.config.algorithm_type == "dpmsolver++"
    arr = np.asarray(out[0]["image"], dtype=np.float64)
    assert arr.shape == (32, 32, 3) and arr.std() > 0  # a real, non-constant image
    step = out[0].lineage[-1]
    assert step.params["scheduler"] == name and step.params["num_inference_steps"] == 2
    assert step.params["snapshot"].startswith("blake2b:") and step.runtime["dtype"] == "float32"


@pytest.mark.model
def test_a_turbo_directory_gets_turbo_defaults_and_they_are_recorded(sd_dir, tmp_path):
    turbo = tmp_path / "my-sd-turbo"
    shutil.copytree(sd_dir, turbo)
    t = create("transform", "image.text-to-image.diffusers", model=str(turbo), height=32, width=32, device="cpu")
    out = t(TEXTS[:1], [0])
    params = out[0].lineage[-1].params
    assert (params["family"], params["num_inference_steps"], params["guidance_scale"]) == ("turbo", 1, 0.0)
    assert params["scheduler"] == "DDIMScheduler"  # the pipeline's own, named


@pytest.mark.model
@pytest.mark.parametrize("weight, flagged", [(-2.0, True), (2.0, False)])
def test_safety_checker_hits_are_rejections_with_reason_nsfw(sd_dir, weight, flagged, tiny):
    t = create("transform", "image.text-to-image.diffusers", model=sd_dir, **T2I)
    t.pipeline.safety_checker, t.pipeline.feature_extractor = tiny.build_safety_checker(weight)
    out = t(TEXTS, [1, 2])
    assert [o.kept for o in out] == [not flagged] * 2
    for o in out:
        assert o.lineage[-1].params["nsfw"] is flagged
        if flagged:
            assert o.reason == NSFW_REASON and o.reason.startswith("nsfw")
            assert np.asarray(o["image"]).max() == 0  # the black image the pipeline returns is never kept


@pytest.mark.model
def test_nan_pixels_are_an_error_of_that_sample(sd_dir):
    import torch

    t = create("transform", "image.text-to-image.diffusers", model=sd_dir, **T2I)
    with torch.no_grad():  # a broken decoder: every pixel NaN
        t.pipeline.vae.decoder.conv_out.bias.fill_(float("nan"))
    with pytest.raises(BadSample, match="NaN or infinite pixels") as info:
        t(TEXTS, [1, 2])
    assert info.value.sample_id == "t0" and info.value.field == "image"


@pytest.mark.model
def test_back_captioning_without_filters_generates_only_the_k_kept_images(blip_dir, sd_dir, tiny, monkeypatch):
    from crossaug_image.text_to_image.stable_diffusion import StableDiffusionTextToImage

    generated: list[int] = []
    real = StableDiffusionTextToImage.generate

    def counting(self, prompts, seeds):
        generated.append(len(prompts))
        return real(self, prompts, seeds)

    monkeypatch.setattr(StableDiffusionTextToImage, "generate", counting)
    r = create("recipe", "back-captioning", caption_model=blip_dir, rewriter="text.typo",
               caption_params={"max_new_tokens": 4, "min_new_tokens": 2}, image_model=sd_dir,
               image_params={k: v for k, v in T2I.items() if k != "device"}, device="cpu", l=2, m=2, n=2, keep=5)
    inputs = [Sample("i0", {"image": tiny.make_image(0)}, label="cat"),
              Sample("i1", {"image": tiny.make_image(1)}, label="dog")]
    groups = r.process(inputs, Seeder(0))
    assert sum(generated) == 5 * len(inputs)  # l = m = n = 2, k = 5, no filters: 5 images per input, not 8
    for g in groups:
        assert len(g) == 8 and sum(c.kept for c in g) == 5
        assert all(c.reason.startswith("not sampled") and "image" not in c.fields for c in g if not c.kept)


@pytest.mark.model
def test_run_json_records_the_resolved_image_settings(blip_dir, sd_dir, tiny, tmp_path):
    import crossaug

    rows = tmp_path / "in.jsonl"
    tiny.make_image(0).save(tmp_path / "a.png")
    rows.write_text(json.dumps({"id": "a", "image": "a.png", "label": "cat"}) + "\n")
    crossaug.run("back-captioning", rows, tmp_path / "out", seed=0, params=dict(
        caption_model=blip_dir, rewriter="text.typo", caption_params={"max_new_tokens": 4, "min_new_tokens": 2},
        image_model=sd_dir, image_params={"height": 32, "width": 32, "scheduler": "euler"}, device="cpu",
        l=1, m=1, n=2, keep=1))
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    settings = run["models"]["image.text-to-image.diffusers"]
    assert settings["scheduler"] == "euler" and settings["num_inference_steps"] == 50  # SD's default
    assert settings["guidance_scale"] == 7.5 and settings["dtype"] == "float32" and settings["device"] == "cpu"
    assert settings["snapshot"].startswith("blake2b:")
    assert Path(tmp_path / "out" / "manifest.jsonl").is_file()
