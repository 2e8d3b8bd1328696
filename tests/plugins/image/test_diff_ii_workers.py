"""Diff-II fits in the parent; when the parent holds CUDA, process workers are spawned and still agree."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch", reason="Diff-II needs crossaug-image[diffusers]")

import crossaug  # noqa: E402
from crossaug.runner import executor as executor_module  # noqa: E402
from crossaug.runner import read_manifest  # noqa: E402


@pytest.mark.model
@pytest.mark.slow
def test_spawned_workers_rebuild_the_fitted_pipeline_and_match_one_process(sd_dir, tiny, tmp_path, monkeypatch):
    rows = []
    for i, lab in enumerate(["cat", "cat", "dog", "dog"]):
        tiny.make_image(i, (32, 32)).save(tmp_path / f"{i}.png")
        rows.append({"id": f"s{i}", "image": f"{i}.png", "label": lab})
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    params = dict(model=sd_dir, expansion=1, steps=2, inversion_steps=2, guidance_scale=2.0, resolution=32,
                  concept_steps=2, concept_batch_size=2, suffixes=["on the grass"], device="cpu",
                  cache_dir=str(tmp_path / "cache"))
    crossaug.run("diff-ii", src, tmp_path / "one", seed=0, params=params)
    started: list[str] = []
    real = executor_module.multiprocessing.get_context

    def context(method=None):
        started.append(str(method))
        return real(method)

    monkeypatch.setattr(executor_module, "cuda_in_use", lambda: True)  # as after a fit on the GPU
    monkeypatch.setattr(executor_module.multiprocessing, "get_context", context)
    crossaug.run("diff-ii", src, tmp_path / "two", seed=0, params=params, workers=2, executor="process",
                 batch_size=2)
    assert "spawn" in started
    one = {line["id"]: line for line in read_manifest(tmp_path / "one")}
    two = {line["id"]: line for line in read_manifest(tmp_path / "two")}
    assert sorted(one) == sorted(two) and all(line["kept"] for line in two.values())
    for key, line in one.items():  # same images, within the contract's tolerance for neural payloads
        a = np.asarray(Image.open(tmp_path / "one" / line["image"]), dtype=np.float64)
        b = np.asarray(Image.open(tmp_path / "two" / two[key]["image"]), dtype=np.float64)
        assert np.abs(a - b).mean() <= 2.0
