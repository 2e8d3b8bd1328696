"""Recipes to and from YAML/JSON by entry-point name; `crossaug run --config`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import crossaug
import pytest
import yaml
from crossaug import BackModality, ConfigError
from crossaug.builtin.edit_distance import EditDistance
from crossaug.builtin.reverse import ReverseWords
from crossaug.builtin.typo import Typo
from crossaug.serialization import RecipeConfig, dump_config, from_dict, load_config, parse_config


def nested() -> BackModality:
    return BackModality(forward=ReverseWords(), augment=[Typo(rate=0.1, field="text.reversed"),
                                                         Typo(rate=0.3, ops=["swap"], field="text.reversed")],
                        backward=ReverseWords(in_field="text.reversed", out_field="text"),
                        filters=[EditDistance(threshold=0.3, unit="char")], fan_out=(1, 2, 1), keep=1)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_round_trip_nested_recipe(tmp_path: Path, fmt: str) -> None:
    cfg = RecipeConfig(nested(), seed=4, run={"workers": 1, "batch_size": 2})
    path = tmp_path / f"recipe.{fmt}"
    path.write_text(dump_config(cfg, fmt))
    again = load_config(path)
    assert again.recipe == cfg.recipe and again.seed == 4 and again.run == {"workers": 1, "batch_size": 2}
    s = [crossaug.Sample("a", {"text": "to be or not to be"})]
    assert [o.fields for o in again.recipe(s, seed=2)] == [o.fields for o in cfg.recipe(s, seed=2)]


def test_yaml_written_by_hand() -> None:
    doc = yaml.safe_load("""
recipe: back-modality
params:
  forward: {transform: text.reverse-words}
  augment: {augmentation: text.typo, params: {rate: 0.2, field: text.reversed}}
  backward: {transform: text.reverse-words, params: {in_field: text.reversed, out_field: text}}
  filters: [{filter: text.edit-distance, params: {threshold: 0.5}}]
  fan_out: [1, 3, 1]
seed: 3
""")
    cfg = parse_config(doc)
    assert isinstance(cfg.recipe, BackModality) and cfg.recipe.fan_out == [1, 3, 1]
    assert cfg.recipe.filters[0].threshold == 0.5


@pytest.mark.parametrize("doc,msg", [
    ({"params": {}}, "missing 'recipe'"),
    ({"recipe": "typo", "colour": 1}, "unknown key"),
    ({"recipe": "typo", "params": {"nope": 1}}, "has no parameter"),
    ({"recipe": "typo", "seed": -2}, "seed must be"),
    ({"recipe": "typo", "run": {"threads": 3}}, "unknown run option"),
    ({"recipe": "back-modality", "params": {"forward": {"transform": "nope"}, "backward": {"transform": "nope"}}},
     "unknown transform 'nope'"),
    ([1, 2], "top level must be a mapping"),
])
def test_bad_configs(doc, msg) -> None:
    with pytest.raises(ConfigError, match=msg):
        parse_config(doc)


def test_step_dict_errors() -> None:
    with pytest.raises(ConfigError, match="exactly one of"):
        from_dict({"transform": "a", "augmentation": "b"})
    with pytest.raises(ConfigError, match="unexpected key"):
        from_dict({"augmentation": "text.typo", "parameters": {}})


def test_cli_run_with_config(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(dump_config(RecipeConfig(nested(), seed=7, run={"batch_size": 3})))
    data = tmp_path / "in.txt"
    data.write_text("a first line of text\na second line of text\n")
    cmd = [sys.executable, "-c", "from crossaug.cli import main; main()", "run", "--config", str(path),
           "-i", str(data), "-o", str(tmp_path / "out"), "--no-progress"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["seed"] == 7 and summary["batch_size"] == 3 and summary["inputs"] == 2
    api = crossaug.run(load_config(path).recipe, data, tmp_path / "api", seed=7, report=False)
    assert (tmp_path / "out" / "manifest.jsonl").read_bytes() == api.manifest_path.read_bytes()
