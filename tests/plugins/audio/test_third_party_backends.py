"""Back-speech with a third party's TTS and ASR, chosen by entry-point name (the example plugin's tone pair)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crossaug import ConfigError, create

from .conftest import NEEDS_SOX

pytest.importorskip("crossaug_example.tones", reason="the example plugin fixture (tests/fixtures/example_plugin) "
                                                     "is not installed")

SENTENCES = ["the quick brown fox jumps over the lazy dog", "pack my box with five dozen liquor jugs"]


@NEEDS_SOX
def test_cli_runs_back_speech_with_plugin_tts_and_asr(tmp_path: Path) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"id": f"s{i}", "text": t}) + "\n" for i, t in enumerate(SENTENCES)))
    env = {**os.environ, "CROSSAUG_PLUGINS": "crossaug-example-plugin,crossaug-audio"}
    cmd = [sys.executable, "-c", "from crossaug.cli import main; main()", "run", "back-speech",
           "-i", str(inputs), "-o", str(tmp_path / "out"), "--no-progress", "--n", "3",
           "-p", "tts=example.tts.tones", "-p", "asr=example.asr.tones",
           "-p", "augmentations=[pitch]", "-p", "semitones=[-0.5, 0.5]", "-p", "fan_out=[1, 6, 1]"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert len(rows) >= 12  # six H draws per sentence, plus a top-up round for a sentence short of k
    assert {r["lineage"][0]["name"] for r in rows} == {"example.tts.tones"}
    assert {r["lineage"][2]["name"] for r in rows} == {"example.asr.tones"}
    kept = [r for r in rows if r["kept"]]
    assert kept and all(r["text"].lower() != r["parent"]["text"] for r in kept)  # real variants, not copies
    for parent in {r["parent_id"] for r in rows}:
        mine = [r["text"].lower() for r in kept if r["parent_id"] == parent]
        assert len(mine) <= 3 and len(set(mine)) == len(mine)
    # a pitch shift moved tones to neighbouring letters: the toy ASR heard other words
    assert any("pitch" in json.dumps(r["lineage"][1]) for r in rows)


def test_plugin_backend_of_the_wrong_direction_is_refused() -> None:
    with pytest.raises(ConfigError, match="expected text -> audio"):
        create("recipe", "back-speech", tts="example.asr.tones")
    with pytest.raises(ConfigError, match="did you mean"):
        create("recipe", "back-speech", asr="example.asr.tone")


def test_plugin_backend_answers_its_short_alias() -> None:
    from crossaug import registry

    assert registry.resolve("transform", "tones", prefix="audio.tts.", source="text", target="audio") == \
        "example.tts.tones"
    assert registry.resolve("transform", "tones", prefix="audio.asr.", source="audio", target="text") == \
        "example.asr.tones"
    assert registry.resolve("transform", "flite", prefix="audio.tts.") == "audio.tts.flite"  # own names first
    recipe = create("recipe", "back-speech", tts="tones", asr="tones")
    assert [t.name for t in recipe.forward + recipe.backward] == ["example.tts.tones", "example.asr.tones"]
