"""Recipe back-speech (crossaug_audio/back_speech.py): contract, offline round trip, runner behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
from crossaug import ConfigError, Sample, Seeder, create, from_dict, run
from crossaug.builtin.edit_distance import normalised_edit_distance
from crossaug_testing import RecipeContract

from .conftest import NEEDS_FLITE, NEEDS_SOX

pytestmark = [NEEDS_FLITE, NEEDS_SOX]


class TestBackSpeechContract(RecipeContract):
    name = "back-speech"
    params = {"voices": ["rms"], "semitones": [-1, 1], "tempo": [0.95, 1.05], "fan_out": [1, 1, 1]}

    def good_samples(self):
        return [Sample("b1", {"text": "Two blue fish swam."}),
                Sample("b2", {"text": "Read verse out loud."})]

    def bad_samples(self):
        return [(Sample("emo", {"text": "🙂🙂"}), "nothing to speak")]


def test_mild_round_trip_stays_within_paper_threshold(harvard):
    """flite -> sox (±1 semitone, tempo 0.95–1.05) -> pocketsphinx over six sentences.

    With these mild settings most transcripts stay within the paper's 20% word edit
    distance (all six here with sox 14.4 / pocketsphinx 5; over all 40 bundled sentences
    about half do: the rest are pocketsphinx errors, not augmentation damage).
    """
    recipe = create("recipe", "back-speech", voices=["rms"], semitones=[-1, 1], tempo=[0.95, 1.05],
                    fan_out=[1, 1, 1], min_distance=0.0, screen=False, recase=False, top_up=0)
    sentences = harvard[10:16]
    groups = recipe.process([Sample(f"h{i}", {"text": t}) for i, t in enumerate(sentences)],
                            Seeder(0))
    dists = [normalised_edit_distance(t, g[0]["text"]) for t, g in zip(sentences, groups, strict=False)]
    heard = [g[0]["text"] for g in groups]
    assert sum(d <= 0.2 for d in dists) >= 4, list(zip(sentences, heard, strict=True))
    assert np.mean(dists) < 0.2
    for g, d in zip(groups, dists, strict=False):
        assert g[0].kept == (d <= 0.2)
        assert g[0].lineage[-1].name == "audio.spoken-edit-distance"
        assert g[0].lineage[-1].score == pytest.approx(d)


def test_fan_out_cycles_voices_and_records_all_candidates():
    recipe = create("recipe", "back-speech", voices=["rms", "slt", "awb"], fan_out=[3, 1, 1], threshold=0.0,
                    min_distance=0.0, top_up=0)
    group = recipe.process([Sample("s", {"text": "The sun rose."})], Seeder(1))[0]
    assert [c.id for c in group] == ["s~0.0.0", "s~1.0.0", "s~2.0.0"]
    assert [c.lineage[0].model for c in group] == ["flite:rms", "flite:slt", "flite:awb"]
    assert all(c.parent_id == "s" and "audio" in c.fields for c in group)
    # pitch and tempo were both applied, each with its own recorded draw
    applied = group[0].lineage[1].params["applied"]
    assert [a["name"] for a in applied] == ["audio.pitch-shift", "audio.time-stretch"]
    # with threshold 0 only exact transcripts survive; every candidate stays recorded with a reason
    assert all(c.kept or "edit distance" in c.reason or c.reason.startswith("duplicate") for c in group)


def test_to_dict_round_trip_with_cli_style_params():
    recipe = create("recipe", "back-speech", tts="espeak", voices=["en-us", "en-gb"], asr="wav2vec2",
                    asr_model="/models/w2v", augmentations="pitch+noise", unit="char", threshold=0.3, keep=1)
    d = recipe.to_dict()
    assert json.loads(json.dumps(d)) == d
    again = from_dict(d)
    assert again.to_dict() == d
    assert [t.name for t in again.forward] == ["audio.tts.espeak", "audio.tts.espeak"]
    assert again.backward[0].model == "/models/w2v"
    assert [s.name for s in again.augment[0].steps] == ["audio.pitch-shift", "audio.noise"]
    assert again.filters[1].unit == "char" and again.filters[1].threshold == 0.3


def test_default_voices_follow_the_backend():
    default = create("recipe", "back-speech")
    assert default.voices == ["slt", "rms", "awb"] and default.fan_out == [3, 4, 1] and default.keep == 5
    espeak = create("recipe", "back-speech", tts="espeak")
    assert espeak.voices == ["en-us"] and espeak.fan_out == [1, 4, 1]
    fs2 = create("recipe", "back-speech", tts="fastspeech2", asr="wav2vec2")
    assert fs2.forward[0].model == "espnet/fastspeech2_conformer_with_hifigan"
    assert fs2.backward[0].model == "facebook/wav2vec2-base-960h"
    assert from_dict(fs2.to_dict()).to_dict() == fs2.to_dict()


@pytest.mark.parametrize("params,fragment", [({"tts": "festival"}, r"unknown transform audio\.tts\.\*"),
                                             ({"tts": "flit"}, "did you mean audio.tts.flite"),
                                             ({"asr": "kaldi"}, r"unknown transform audio\.asr\.\*"),
                                             ({"asr": "audio.tts.flite"}, "expected audio -> text"),
                                             ({"tts": "audio.asr.pocketsphinx"}, "expected text -> audio"),
                                             ({"augmentations": ["reverb"]}, "unknown augmentation"),
                                             ({"unit": "phone"}, "unit"),
                                             ({"voices": ["nobody"]}, "flite voice")])
def test_bad_config(params, fragment):
    with pytest.raises(ConfigError, match=fragment):
        create("recipe", "back-speech", **params)


@pytest.mark.slow
def test_run_is_byte_identical_with_one_or_two_workers(tmp_path, harvard):
    inputs = [{"id": "s0", "text": "The sun rose."}, {"id": "s1", "text": "Smoky fires lack flame and heat."},
              {"id": "s2", "text": "What joy there is in living."}]
    inputs.append({"id": "emoji", "text": "🙂 🎉"})
    inputs.append({"id": "cyr", "text": "Привет, как дела?"})
    recipe = dict(voices=["rms"], fan_out=[1, 1, 1], top_up=0)
    a = run("back-speech", inputs, tmp_path / "w1", seed=5, workers=1, batch_size=2, on_error="skip",
            params=recipe, report=False)
    b = run("back-speech", inputs, tmp_path / "w2", seed=5, workers=2, batch_size=1, on_error="skip",
            params=recipe, report=True)
    assert a.manifest_path.read_bytes() == b.manifest_path.read_bytes()
    lines = [json.loads(x) for x in a.manifest_path.read_text().splitlines()]
    by_parent = {x["parent_id"]: x for x in lines}
    assert "nothing to speak" in by_parent["emoji"]["reason"] and by_parent["emoji"]["kept"] is False
    assert "script" in by_parent["cyr"]["reason"]
    assert len(lines) == 5
    # media written, timings per stage recorded
    for x in lines[:3]:
        assert (tmp_path / "w1" / x["audio"]).exists()
    timings = b.summary["timings"]
    assert {"audio.tts.flite", "audio.asr.pocketsphinx", "compose", "audio.spoken-edit-distance"} <= set(timings)
    html = (tmp_path / "w2" / "report.html").read_text()
    assert "<audio" in html and "nothing to speak" in html
    # each candidate shows its H draw; inputs without output are listed first with their reasons
    assert "drawn: pitch" in html and " cents · tempo " in html
    top = html[html.index('id="without"'):html.index('id="recipes"')]
    assert "emoji" in top and "cyr" in top and "nothing to speak" in top


def test_sentence_whose_candidates_all_fail_is_recorded(tmp_path):
    # min_distance 1.0 + threshold 1.0 accepts only transcripts with distance exactly 1: none here
    res = run("back-speech", [{"id": "x", "text": "The boy was there."}], tmp_path,
              params={"voices": ["rms", "slt"], "min_distance": 0.99, "threshold": 0.995,
                      "augmentations": [], "fan_out": [2, 1, 1], "top_up": 0}, report=False)
    lines = [json.loads(x) for x in res.manifest_path.read_text().splitlines()]
    assert len(lines) == 2 and not any(x["kept"] for x in lines)
    assert all("edit distance" in x["reason"] for x in lines)
    assert res.summary["inputs_without_output"] == ["x"]


def test_long_input_is_chunked_through_the_recipe():
    text = "The sun rose. The sun rose. The sun rose."
    recipe = create("recipe", "back-speech", voices=["rms"], tts_options={"max_chars": 20},
                    augmentations=[], fan_out=[1, 1, 1], top_up=0)
    cand = recipe.process([Sample("long", {"text": text})], Seeder(0))[0][0]
    assert cand.lineage[0].params == {"chunks": 3}
    assert cand["audio"].duration > 2.5


@pytest.mark.slow
def test_run_back_speech_n_keeps_at_most_n_distinct(tmp_path):
    """`crossaug run back-speech --n 5`: at most 5 distinct outputs per input, none a copy, 1 or 2 workers alike."""
    import os
    import subprocess
    import sys

    from crossaug_audio.spoken_form import spoken_form

    inputs = tmp_path / "in.jsonl"
    rows = [{"id": "a", "text": "The birch canoe slid on the smooth planks.", "label": "x"},
            {"id": "b", "text": "It's easy to tell the depth of a well.", "label": "y"}]
    inputs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    manifests = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        cmd = [sys.executable, "-c", "from crossaug.cli import main; main()", "run", "back-speech", "-i", str(inputs),
               "-o", str(out), "--n", "5", "--workers", str(workers), "--batch-size", "1", "--no-progress",
               "-p", "voices=[rms]", "-p", "fan_out=[1, 7, 1]", "-p", "top_up=0"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), timeout=600)
        assert done.returncode == 0, done.stderr
        assert "kept per label:" in done.stderr + done.stdout
        manifests.append((out / "manifest.jsonl").read_bytes())
    assert manifests[0] == manifests[1]
    lines = [json.loads(x) for x in manifests[0].decode().splitlines()]
    for row in rows:
        kept = [x for x in lines if x["parent_id"] == row["id"] and x["kept"]]
        spoken = [spoken_form(x["text"]) for x in kept]
        assert len(kept) <= 5 and len(set(spoken)) == len(spoken)
        assert spoken_form(row["text"]) not in spoken
        assert all(x["text"][:1].isupper() and x["text"].endswith(".") for x in kept)  # recased
    assert len(lines) == 14 and sum(x["kept"] for x in lines) >= 2
    summary = json.loads((tmp_path / "w1" / "summary.json").read_text())
    assert summary["labels"]["inputs"] == {"x": 1, "y": 1}
    assert sum(summary["labels"]["outputs"].values()) == summary["kept"]


def test_rerun_with_a_result_cache_replays_speech_and_transcripts(tmp_path):
    """With ``cache_dir`` a second run takes every clip and transcript from the cache: same bytes."""
    inputs = [{"id": "s0", "text": "The sun rose."}, {"id": "s1", "text": "Smoky fires lack flame and heat."}]
    recipe = dict(voices=["rms"], fan_out=[1, 2, 1], top_up=0)
    cache = tmp_path / "cache"
    a = run("back-speech", inputs, tmp_path / "a", seed=3, params=recipe, report=False, cache_dir=cache)
    b = run("back-speech", inputs, tmp_path / "b", seed=3, params=recipe, report=False, cache_dir=cache)
    fresh = run("back-speech", inputs, tmp_path / "c", seed=3, params=recipe, report=False)
    assert a.manifest_path.read_bytes() == b.manifest_path.read_bytes() == fresh.manifest_path.read_bytes()
    assert any(cache.rglob("*.npz"))
    media = sorted(x.relative_to(tmp_path / "a") for x in (tmp_path / "a").rglob("*.wav"))
    assert media and all((tmp_path / "a" / m).read_bytes() == (tmp_path / "b" / m).read_bytes() for m in media)
    timings = b.summary["timings"]
    assert "audio.tts.flite:cache-hit" in timings and "audio.asr.pocketsphinx:cache-hit" in timings
    assert "audio.tts.flite" not in timings and "audio.asr.pocketsphinx" not in timings  # nothing recomputed
