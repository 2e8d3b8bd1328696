"""``crossaug run biaug`` end to end on a small generated image set: tiny OWL-ViT, tiny inpainting SD, an LLM client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crossaug.cli import app
from typer.testing import CliRunner

pytestmark = pytest.mark.model
runner = CliRunner()

CAPTIONS = ["a cat sitting under a tree", "a wooden table in a kitchen", "gibberish", "a dog on the grass", ""]


def fake_gpt(prompts, seeds, **options):
    """Objects from the request; answers in the shapes models write; '???' for a caption it cannot read."""
    out = []
    for p in prompts:
        if p.rstrip().endswith("Objects:"):
            out.append("???" if "Caption: gibberish" in p else "1. a cat\n2. the tree\n3. table")
        elif "Attribute: color" in p:
            out.append("red\nnegative: green")
        else:
            out.append("metal")  # no negative: a malformed answer
    return out


@pytest.fixture(scope="module", autouse=True)
def _client():
    pytest.importorskip("crossaug_text", reason="biaug's LLM steps go through crossaug-text's text.llm-rewrite")
    from crossaug_text.llm_clients import register_client, unregister_client

    register_client("biaug-cli-gpt", fake_gpt)
    yield
    unregister_client("biaug-cli-gpt")


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny):
    pytest.importorskip("diffusers", reason="inpainting needs crossaug-image[diffusers]")
    owl = tiny.build_owlvit(tmp_path_factory.mktemp("owlvit"))
    inpaint = tiny.build_stable_diffusion(tmp_path_factory.mktemp("inpaint"), in_channels=9,
                                          pipeline="StableDiffusionInpaintPipeline")
    return str(owl), str(inpaint)


def _run(tmp_path: Path, models, out: str, *extra: str):
    owl, inpaint = models
    return runner.invoke(app, ["run", "biaug", "-i", str(tmp_path / "pairs.jsonl"), "-o", str(tmp_path / out),
                               "--no-progress", "--seed", "3",
                               "-p", "llm_params={client: biaug-cli-gpt}", "-p", f"detect_model={owl}",
                               "-p", f"inpaint_model={inpaint}", "-p", "box_threshold=0.0",
                               "-p", "inpaint_params={num_inference_steps: 2, guidance_scale: 1.0}",
                               "-p", "attributes=[color, material]", "-p", "min_box_area=0.0",
                               "-p", "max_box_area=1.0", "-p", "device=cpu", *extra])


def test_cli_biaug_end_to_end(tmp_path, models, tiny):
    rows = []
    for i, caption in enumerate(CAPTIONS):
        tiny.make_image(i, (48, 40)).save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": f"p{i}", "image": f"{i}.png", "text": caption}))
    (tmp_path / "pairs.jsonl").write_text("\n".join(rows) + "\n")
    res = _run(tmp_path, models, "o")
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    kept = [r for r in recs if r["kept"]]
    rejected = [r for r in recs if not r["kept"]]
    # 3 readable captions x (color kept, material malformed) + the unreadable caption's rejection + the empty one
    assert sorted(r["parent_id"] for r in kept) == ["p0", "p1", "p3"]
    assert sorted((r["parent_id"], r["reason"].split(":")[0]) for r in rejected) == [
        ("p0", "malformed attribute answer"), ("p1", "malformed attribute answer"), ("p2", "malformed object list"),
        ("p3", "malformed attribute answer"), ("p4", "BadSample")]
    empty = [r["reason"] for r in rejected if r["parent_id"] == "p4"]
    assert empty == ["BadSample: sample 'p4' field 'text': empty text"]
    for r in kept:
        last = r["lineage"][-1]
        assert [s["name"] for s in r["lineage"]] == ["text.llm-rewrite", "image.detect", "text.llm-rewrite",
                                                     "image.inpaint", "biaug"]
        p = last["params"]
        assert (p["attribute"], p["value"], p["negative"]) == ("color", "red", "green")
        assert p["object"] in ("cat", "tree", "table") and len(p["box"]) == 4
        assert p["llm_model"] == "client:biaug-cli-gpt" and p["detect_model"] == models[0]
        assert p["inpaint_model"] == models[1]
        assert r["text"] == p["caption"] and r["text.negative"] == p["negative_caption"]
        assert "red" in r["text"] and "green" in r["text.negative"]
        assert (tmp_path / "o" / r["image"]).is_file()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["rejection_reasons"] == {"malformed attribute answer": 3, "malformed object list": 1,
                                            "BadSample": 1}
    # same seed, same manifest (ids, captions, lineage seeds)
    again = _run(tmp_path, models, "o2")
    assert again.exit_code == 0, again.output
    recs2 = [json.loads(x) for x in (tmp_path / "o2" / "manifest.jsonl").read_text().splitlines()]
    key = [(r["id"], r["kept"], r.get("text"), [s.get("seed") for s in r["lineage"]]) for r in recs]
    assert key == [(r["id"], r["kept"], r.get("text"), [s.get("seed") for s in r["lineage"]]) for r in recs2]
