"""Recipe sluma: tiny GLIGEN generations kept by the adaptive threshold on tiny-CLIP confidences."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from crossaug import BadSample, ConfigError, Sample, Seeder, create
from crossaug.cli import app
from crossaug_image.recipes.sluma import random_boxes
from crossaug_testing import RecipeContract
from typer.testing import CliRunner

pytestmark = pytest.mark.model

GEN = {"num_inference_steps": 2, "guidance_scale": 1.0, "height": 32, "width": 32}


def _helper():
    spec = importlib.util.spec_from_file_location("crossaug_image_tests_tiny_gligen",
                                                  Path(__file__).with_name("tiny_gligen.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def gligen_dir(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="GLIGEN needs crossaug-image[diffusers]")
    return str(_helper().build_gligen(tmp_path_factory.mktemp("gligen"), tiny))


def _params(gligen_dir, clip_dir, **extra):
    return {"image_model": gligen_dir, "image_params": GEN, "confidence_model": clip_dir, "device": "cpu",
            "alpha": 0.5, **extra}


def _texts():
    return [Sample("t0", {"text": "a cat on grass"}, label="coref",
                   meta={"phrases": ["cat"], "boxes": [[0.1, 0.2, 0.6, 0.9]]}),
            Sample("t1", {"text": "a dog and a tree"}, label="coref", meta={"phrases": ["dog", "tree"]}),
            Sample("t2", {"text": "a red car"}, label="coref")]


class TestSlumaContract(RecipeContract):
    name = "sluma"

    @pytest.fixture(autouse=True)
    def _models(self, gligen_dir, clip_dir):
        type(self).params = _params(gligen_dir, clip_dir)

    def good_samples(self):
        return _texts()

    def bad_samples(self):
        return [(Sample("empty", {"text": "  "}), "text is only whitespace"),
                (Sample("count", {"text": "a cat"}, meta={"phrases": ["cat", "dog"], "boxes": [[0, 0, 0.5, 0.5]]}),
                 "2 phrase(s) but 1 box"),
                (Sample("outside", {"text": "a cat"}, meta={"phrases": ["cat"], "boxes": [[0.5, 0.5, 1.5, 1.0]]}),
                 "outside")]


def test_lineage_names_models_prompts_boxes_seeds_and_the_threshold(gligen_dir, clip_dir):
    recipe = create("recipe", "sluma", **_params(gligen_dir, clip_dir, n=3))
    groups = recipe.process(_texts(), Seeder(4))
    assert [len(g) for g in groups] == [3, 3, 3]
    flat = [o for g in groups for o in g]
    assert 0 < sum(o.kept for o in flat) < len(flat), [o.reason for o in flat]
    taus = []
    for o in flat:
        gen = next(s for s in o.lineage if s.name == "image.layout-to-image")
        sel = o.lineage[-1]
        assert gen.model == gligen_dir and gen.seed is not None and gen.params["prompt"] == o["text"]
        assert sel.name == "filter.adaptive-threshold" and sel.model == clip_dir and sel.score is not None
        assert o.kept == (sel.score >= sel.params["threshold"])
        if not o.kept:
            assert o.reason.startswith("filter.adaptive-threshold: confidence")
        taus.append(sel.params["threshold"])
        assert o["image"].size == (32, 32) and o.parent_id == o.id.split("~")[0]
    assert [s.lineage[-1].params["step"] for s in flat] == list(range(1, 10))  # one EMA over the run, in order
    t0, t1, t2 = (g[0].lineage for g in groups)
    assert next(s for s in t0 if s.name == "image.layout-to-image").params["boxes"] == [[0.1, 0.2, 0.6, 0.9]]
    drawn = next(s for s in t1 if s.name == "sluma.random-boxes")  # phrases only: random boxes, one per phrase
    assert drawn.params["phrases"] == ["dog", "tree"] and len(drawn.params["boxes"]) == 2
    assert drawn.params["boxes"] == random_boxes(["dog", "tree"], drawn.seed, (0.25, 0.75))
    assert next(s for s in t1 if s.name == "image.layout-to-image").params["boxes"] == drawn.params["boxes"]
    assert next(s for s in t2 if s.name == "image.layout-to-image").params["boxes"] == []  # plain text-to-image
    assert not any(s.name == "sluma.random-boxes" for s in t2)


def test_random_boxes_lie_inside_and_follow_the_size_range():
    for seed in range(20):
        for x0, y0, x1, y1 in random_boxes(["a", "b", "c"], seed, (0.25, 0.5)):
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
            assert 0.2499 <= x1 - x0 <= 0.5001 and 0.2499 <= y1 - y0 <= 0.5001
    assert random_boxes(["a"], 1, (0.3, 0.6)) != random_boxes(["a"], 2, (0.3, 0.6))


def test_random_boxes_follow_the_generators_pixel_units():
    recipe = create("recipe", "sluma", image_model="x/gligen", image_params={"box_units": "pixels", "height": 32,
                                                                              "width": 64})
    meta, step = recipe._layout(Sample("p", {"text": "a cat"}, meta={"phrases": ["cat"]}), 5)
    frac = random_boxes(["cat"], 5, (0.25, 0.75))[0]
    assert meta["boxes"] == step.params["boxes"] == [[round(frac[0] * 64, 2), round(frac[1] * 32, 2),
                                                      round(frac[2] * 64, 2), round(frac[3] * 32, 2)]]
    assert recipe.generator.layout_of(Sample("p", {"text": "a cat"}, meta=meta))[1] == [
        [pytest.approx(v, abs=1e-3) for v in frac]]
    assert recipe._layout(Sample("q", {"text": "a cat"}), 5) == ({}, None)  # no phrases: no layout


def test_bad_configuration_is_refused_with_suggestions():
    with pytest.raises(ConfigError, match="did you mean"):
        create("recipe", "sluma", generator="layout-to-imag")
    with pytest.raises(ConfigError, match="maps image -> text"):
        create("recipe", "sluma", generator="image.caption.blip")
    for bad in ({"n": 0}, {"box_size": [0.8, 0.2]}, {"alpha": 2.0}, {"scope": "batch"}):
        with pytest.raises(ConfigError):
            create("recipe", "sluma", **bad)


def test_cli_end_to_end(tmp_path, gligen_dir, clip_dir):
    rows = [{"id": "c0", "text": "a cat on grass", "phrases": ["cat"], "boxes": [[0.1, 0.2, 0.6, 0.9]]},
            {"id": "c1", "text": "a dog and a tree", "phrases": ["dog", "tree"]},
            {"id": "c2", "text": "a red car"},
            {"id": "c3", "text": "a cat", "phrases": ["cat", "dog"], "boxes": [[0.1, 0.1, 0.5, 0.5]]}]
    data = tmp_path / "texts.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["run", "sluma", "-i", str(data), "-o", str(out), "--no-progress", "--n", "3",
                                   "-p", f"image_model={gligen_dir}", "-p", f"confidence_model={clip_dir}",
                                   "-p", "image_params={num_inference_steps: 2, guidance_scale: 1.0, height: 32, "
                                         "width: 32}",
                                   "-p", "alpha=0.5", "-p", "device=cpu"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    by_parent = {}
    for r in recs:
        by_parent.setdefault(r["parent_id"], []).append(r)
    assert [len(by_parent[k]) for k in ("c0", "c1", "c2", "c3")] == [3, 3, 3, 1]
    assert not by_parent["c3"][0]["kept"] and "2 phrase(s) but 1 box" in by_parent["c3"][0]["reason"]
    assert "sample 'c3' field 'boxes'" in by_parent["c3"][0]["reason"]
    made = [r for k in ("c0", "c1", "c2") for r in by_parent[k]]
    assert 0 < sum(r["kept"] for r in made) < len(made)
    assert all(r["lineage"][-1]["params"]["step"] == i + 1 for i, r in enumerate(made))
    assert all(r["kept"] or r["reason"].startswith("filter.adaptive-threshold") for r in made)
    assert all((out / r["image"]).is_file() for r in made)
    summary = json.loads((out / "summary.json").read_text())
    print("sluma tiny run:", summary.get("kept"), "kept,", summary.get("rejected"), "rejected;",
          json.dumps(summary.get("reasons", summary.get("filters")), sort_keys=True))


def test_bad_text_is_rejected_naming_the_sample(gligen_dir, clip_dir):
    recipe = create("recipe", "sluma", **_params(gligen_dir, clip_dir, n=1))
    with pytest.raises(BadSample, match="empty text") as info:
        recipe.process([Sample("blank", {"text": ""})], Seeder(0))
    assert info.value.sample_id == "blank"
