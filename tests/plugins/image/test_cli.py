"""The image recipes through the command line, as users run them (tiny models, JSONL inputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crossaug.cli import app
from typer.testing import CliRunner

pytestmark = pytest.mark.model
runner = CliRunner()


def _manifest(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]


def test_cli_back_imagination(tmp_path, sd_dir, blip_dir):
    data = tmp_path / "texts.jsonl"
    data.write_text(json.dumps({"id": "r1", "text": "a red car on the beach"}) + "\n")
    res = runner.invoke(app, ["run", "back-imagination", "-i", str(data), "-o", str(tmp_path / "o"), "--no-progress",
                              "-p", f"image_model={sd_dir}", "-p", f"caption_model={blip_dir}",
                              "-p", "image_params={num_inference_steps: 2, guidance_scale: 1.0, height: 32, width: 32}",
                              "-p", "caption_params={max_new_tokens: 4, min_new_tokens: 2}",
                              "-p", "n=1", "-p", "l=2", "-p", "grayscale_threshold=0.0", "-p", "device=cpu"])
    assert res.exit_code == 0, res.output
    recs = _manifest(tmp_path / "o")
    assert len(recs) == 2 and all(r["parent_id"] == "r1" and r["kept"] for r in recs)
    assert all(isinstance(r["text"], str) and r["text"].strip() for r in recs)


def test_cli_diff_ii_fits_before_processing(tmp_path, sd_dir, blip_dir, tiny):
    rows = []
    for i, label in enumerate(["cat", "cat"]):
        tiny.make_image(i, (32, 32)).save(tmp_path / f"{i}.png")
        rows.append(json.dumps({"id": f"im{i}", "image": f"{i}.png", "label": label}))
    data = tmp_path / "images.jsonl"
    data.write_text("\n".join(rows) + "\n")
    res = runner.invoke(app, ["run", "diff-ii", "-i", str(data), "-o", str(tmp_path / "o"), "--no-progress",
                              "-p", f"model={sd_dir}", "-p", f"caption_model={blip_dir}", "-p", "expansion=1",
                              "-p", "steps=2", "-p", "inversion_steps=2", "-p", "resolution=32",
                              "-p", "concept_steps=1", "-p", "suffixes=[in the snow]", "-p", "device=cpu",
                              "-p", f"cache_dir={tmp_path / 'cache'}"])
    assert res.exit_code == 0, res.output
    recs = _manifest(tmp_path / "o")
    assert sorted(r["parent_id"] for r in recs) == ["im0", "im1"] and all(r["kept"] for r in recs)
    assert all(r["lineage"][-1]["params"]["init"] == "inversion" for r in recs)
    assert all(r["lineage"][-1]["params"]["suffix"] == "in the snow" for r in recs)
