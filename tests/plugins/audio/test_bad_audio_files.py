"""Bad audio *files* through the runner: what is rejected (with the sample named) and what is handled."""

from __future__ import annotations

import json

import numpy as np
from crossaug import create, run
from crossaug.modalities.wav import write_wav
from crossaug.recipe import Augment


def test_bad_audio_files_are_recorded_good_ones_processed(tmp_path):
    t = np.arange(16000) / 16000
    speechlike = (0.4 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    files = {
        "empty": None,
        "nan": np.array([0.1, np.nan, 0.2] * 100, dtype=np.float32),
        "hour": np.zeros(3600 * 1000, dtype=np.float32),        # one hour at 1 kHz (7 MB as PCM16)
        "clipped": np.clip(speechlike * 5, -1, 1),
        "stereo96k": np.stack([np.repeat(speechlike, 6), np.repeat(speechlike, 6)], axis=1),
        "rate8k": speechlike[::2].copy(),
    }
    rates = {"hour": 1000, "stereo96k": 96000, "rate8k": 8000}
    rows = []
    for name, x in files.items():
        path = tmp_path / f"{name}.wav"
        if x is None:
            path.write_bytes(b"")
        else:
            write_wav(path, x, rates.get(name, 16000), pcm16=name in ("hour", "clipped"))
        rows.append({"id": name, "audio": str(path)})
    data = tmp_path / "clips.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = run(Augment(create("augmentation", "audio.gain", db=[-3, -3])), data, tmp_path / "out",
              on_error="skip", report=False)
    lines = {json.loads(x)["parent_id"]: json.loads(x) for x in res.manifest_path.read_text().splitlines()}
    assert "empty audio file" in lines["empty"]["reason"]
    assert "non-finite" in lines["nan"]["reason"]
    assert "3600 s" in lines["hour"]["reason"] and "split long recordings" in lines["hour"]["reason"]
    for name in ("empty", "nan", "hour"):
        assert lines[name]["kept"] is False and f"'{name}'" in lines[name]["reason"]
    for name in ("clipped", "stereo96k", "rate8k"):
        assert lines[name]["kept"] is True
    # the 96 kHz stereo file keeps rate and channels through the augmentation ...
    from crossaug.modality import get_modality

    out = get_modality("audio").load(tmp_path / "out" / lines["stereo96k"]["audio"])
    assert out.sample_rate == 96000 and out.channels == 2
    # ... and the ASR mixes and resamples it
    from crossaug import Sample

    asr = create("transform", "audio.asr.pocketsphinx")
    heard = asr([Sample("s", {"audio": out})], [0])[0]
    assert heard.lineage[-1].params["resampled_from"] == 96000
    assert heard.lineage[-1].params["mixed_channels"] == 2
