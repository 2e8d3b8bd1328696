"""CMDA's feature encoders are found by registered name (``crossaug.encoders``), a third party's too.

The example plugin under tests/fixtures registers ``example.text.letters`` (letter frequencies);
CMDA takes it by name, end to end through ``crossaug run``, as back-speech takes a third party's TTS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from crossaug import ConfigError, create, registry
from PIL import Image

pytest.importorskip("torch", reason="CMDA projection heads need the [torch] extra")
pytest.importorskip("crossaug_example.letters", reason="the example plugin fixture (tests/fixtures/example_plugin) "
                                                       "is not installed")

FAST = {"epochs": 10, "latent_dim": 4, "hidden": 8, "max_components": 2}
COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 200, 40)}


def write_pairs(folder: Path) -> Path:
    rows = []
    for name, rgb in COLOURS.items():
        for i in range(3):
            path = folder / f"{name}{i}.png"
            Image.fromarray(np.full((8, 8, 3), rgb, np.uint8)).save(path)
            rows.append({"id": f"{name}{i}", "text": f"a {name} tile number {i}", "image": path.name})
    data = folder / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return data


def test_built_in_encoders_are_registered_by_modality() -> None:
    assert {"text.hashing", "text.sentence-transformers", "image.pixels"} <= set(registry.names("encoder"))
    recipe = create("recipe", "cmda", text_encoder="hashing", image_encoder="image.pixels", **FAST)
    assert type(recipe._encoder("text")).__name__ == "HashingTextEncoder"
    assert type(recipe._encoder("image")).__name__ == "PixelImageEncoder"


def test_cli_runs_cmda_with_a_third_party_text_encoder(tmp_path: Path) -> None:
    data = write_pairs(tmp_path)
    env = {**os.environ, "CROSSAUG_PLUGINS": "crossaug-example-plugin,crossaug-multimodal"}
    cmd = [sys.executable, "-c", "from crossaug.cli import main; main()", "run", "cmda", "-i", str(data),
           "-o", str(tmp_path / "out"), "--no-progress", "-p", "text_encoder=example.text.letters",
           *[f"-p{k}={v}" for k, v in FAST.items()]]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert sorted(r["parent_id"] for r in rows) == sorted(f"{c}{i}" for c in COLOURS for i in range(3))
    assert all(r["kept"] and r["lineage"][-1]["name"] == "cmda" for r in rows)
    definition = json.loads((tmp_path / "out" / "run.json").read_text())["definition"]
    assert definition["params"]["text_encoder"] == "example.text.letters"


def test_third_party_encoder_features_reach_the_latent_space(only_plugins) -> None:
    """The fitted teacher head reads the plugin's 26 letter frequencies, not the hashing encoder's 256 buckets."""
    only_plugins("crossaug-example-plugin", "crossaug-multimodal")
    from crossaug import Sample

    recipe = create("recipe", "cmda", text_encoder="example.text.letters", **FAST)
    samples = [Sample(f"{c}{i}", {"text": f"a {c} tile {i}", "image": Image.new("RGB", (8, 8), rgb)})
               for c, rgb in COLOURS.items() for i in range(3)]
    recipe.fit(samples)
    encoder = recipe._encoder("text")
    assert type(encoder).__module__ == "crossaug_example.letters"
    assert recipe._fitted["model"].space.teacher_mean.shape == (26,)
    x = encoder.encode(["abba"])
    assert np.allclose(x[0, :2], [2 ** -0.5, 2 ** -0.5]) and np.allclose(x[0, 2:], 0)


@pytest.mark.parametrize(("field", "name", "message"), [
    ("text_encoder", "hashng", r"unknown encoder text\.\* 'hashng'; did you mean text\.hashing\?"),
    ("text_encoder", "image.pixels", r"encoder 'image\.pixels' maps image -> features; expected text -> features"),
    ("image_encoder", "example.text.letters", "maps text -> features; expected image -> features"),
    ("image_encoder", "pixel", r"did you mean image\.pixels\?"),
    ("text_encoder", "example.text.leters", r"did you mean example\.text\.letters\?"),
])
def test_unknown_or_wrong_modality_encoder_fails_when_the_recipe_is_built(field: str, name: str,
                                                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create("recipe", "cmda", **{field: name})
