"""back-captioning and back-imagination end to end on tiny random models (CPU, seconds)."""

from __future__ import annotations

import json

import crossaug
import pytest
from crossaug import ConfigError, Sample, Seeder, create
from crossaug_testing import RecipeContract

pytestmark = pytest.mark.model

CAP = {"max_new_tokens": 5, "min_new_tokens": 3}
T2I = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32}


def _images(tiny):
    return [Sample("i0", {"image": tiny.make_image(0)}, label="persian cat"),
            Sample("i1", {"image": tiny.make_image(1)}, label="dog")]


def _texts():
    return [Sample("t0", {"text": "a red car on the beach"}, label="positive"),
            Sample("t1", {"text": "a small house in the snow"})]


def _back_captioning(blip_dir, sd_dir, **kw):
    params = dict(caption_model=blip_dir, caption_params=CAP, rewriter="text.eda", image_model=sd_dir,
                  image_params=T2I, device="cpu")
    params.update(kw)
    return params


class TestBackCaptioningContract(RecipeContract):
    name = "back-captioning"

    @pytest.fixture(autouse=True)
    def _models(self, blip_dir, sd_dir, tiny):
        type(self).params = _back_captioning(blip_dir, sd_dir, l=2, m=1, n=1, keep=None)
        self._tiny = tiny

    def good_samples(self):
        return _images(self._tiny)


class TestBackImaginationContract(RecipeContract):
    name = "back-imagination"

    @pytest.fixture(autouse=True)
    def _models(self, blip_dir, sd_dir):
        type(self).params = dict(image_model=sd_dir, image_params=T2I, caption_model=blip_dir, caption_params=CAP,
                                 augmentation="image.flip", n=1, l=2, device="cpu")

    def good_samples(self):
        return _texts()


def test_back_captioning_paper_fan_out_and_lineage(blip_dir, sd_dir, tiny):
    r = create("recipe", "back-captioning", **_back_captioning(blip_dir, sd_dir))
    assert r.fan_out == [2, 2, 2] and r.keep == 5  # paper: l=m=n=2, k=5
    group = r.process(_images(tiny)[:1], Seeder(0))[0]
    assert len(group) == 8 and sum(c.kept for c in group) == 5
    assert all("not sampled" in c.reason for c in group if not c.kept)
    kept = [c for c in group if c.kept]
    for c in kept:
        assert c.parent_id == "i0" and c.label == "persian cat"
        assert c["image"].size == (32, 32)
        names = [step.name for step in c.lineage]
        assert names[:3] == ["image.caption.blip", "text.eda", "image.text-to-image.diffusers"]
        assert c.lineage[0].params["prompt"] == "a photo of a persian cat"  # label injected
        assert c.lineage[2].params["prompt"] == c["text.caption"]  # G drew the rewritten caption
    assert len({c.lineage[0].seed for c in group}) == 2  # l distinct caption seeds
    json.dumps([s.to_dict() for c in group for s in c.lineage])


def test_back_captioning_round_trips_through_to_dict(blip_dir, sd_dir):
    r = create("recipe", "back-captioning", **_back_captioning(blip_dir, sd_dir, rewriter="text.typo",
                                                                rewriter_params={"rate": 0.2}))
    again = crossaug.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again.to_dict() == r.to_dict() and again.augment[0].rate == 0.2


def test_back_imagination_rejects_black_and_white_after_bounded_retries(blip_dir, sd_dir):
    r = create("recipe", "back-imagination", image_model=sd_dir, image_params=T2I, caption_model=blip_dir,
               caption_params=CAP, n=2, l=1, grayscale_threshold=1.0, max_retries=2, device="cpu")
    group = r.process(_texts()[:1], Seeder(1))[0]
    assert len(group) == 2 and not any(c.kept for c in group)
    for c in group:
        assert "black-and-white" in c.reason
        f_step = c.lineage[0]
        assert f_step.name == "image.text-to-image.resample-grayscale"
        assert f_step.params["retries"] == 2 and len(f_step.params["retry_seeds"]) == 2


def test_back_imagination_outputs_captions_of_imagined_images(blip_dir, sd_dir):
    r = create("recipe", "back-imagination", image_model=sd_dir, image_params=T2I, caption_model=blip_dir,
               caption_params=CAP, n=2, l=2, grayscale_threshold=0.0, device="cpu")
    assert r.keep == 5 and r.fan_out == [2, 1, 2]  # paper: k = 5, n = l = 2, no image augmentation
    group = r.process(_texts()[:1], Seeder(0))[0]
    assert len(group) == 4 and all(c.kept for c in group)  # 4 candidates < k: all kept
    for c in group:
        assert isinstance(c["text"], str) and c["text"]
        assert c["image.imagined"].size == (32, 32)
        assert c.lineage[0].params["retries"] == 0
        assert c.lineage[-2].name == "image.caption.blip" and c.lineage[-2].params["prompt"] is None
    assert len({c["text"] for c in group}) >= 2


def test_runner_writes_a_manifest(blip_dir, sd_dir, tiny, tmp_path):
    r = create("recipe", "back-captioning", **_back_captioning(blip_dir, sd_dir, l=1, m=1, n=2, keep=1))
    result = crossaug.run(r, _images(tiny)[:1], tmp_path / "out", seed=0)
    lines = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    produced = [x for x in lines if x.get("parent_id") == "i0" and x["id"] != "i0"]
    assert len(produced) == 2 and sum(x["kept"] for x in produced) == 1
    assert result is not None


def test_recipe_config_errors(blip_dir, sd_dir):
    with pytest.raises(ConfigError):
        create("recipe", "back-captioning", **_back_captioning(blip_dir, sd_dir, l=0))
    with pytest.raises(ConfigError):
        create("recipe", "back-captioning", **_back_captioning(blip_dir, sd_dir, rewriter="text.no-such-thing"))
    with pytest.raises(ConfigError):
        create("recipe", "back-imagination", image_params={"steps": 3})
