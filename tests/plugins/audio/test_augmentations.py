"""Contract suite and behaviour of the audio augmentations (crossaug_audio/augmentations)."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug import Audio, ConfigError, Sample, create
from crossaug_testing import AugmentationContract

from .conftest import NEEDS_SOX
from .test_dsp import dominant, tone


def audio_sample(sid: str = "a1", seconds: float = 0.5, rate: int = 16000, stereo: bool = False) -> Sample:
    x = tone(330, seconds, rate)
    if stereo:
        x = np.stack([x, 0.5 * x], axis=1)
    return Sample(sid, {"audio": Audio(x, rate)})


def bad_audio() -> list[tuple[Sample, str]]:
    return [(Sample("nan1", {"audio": Audio(np.full(100, np.nan, dtype=np.float32), 16000)}), "non-finite"),
            (Sample("empty1", {"audio": Audio(np.zeros(0, dtype=np.float32), 16000)}), "zero-length"),
            (Sample("text1", {"text": "no audio here"}), "needs field"),
            (Sample("long1", {"audio": Audio(np.zeros(3600 * 100, dtype=np.float32), 100)}), "limit")]


class _AudioAug(AugmentationContract):
    def good_samples(self):
        return [audio_sample("a1"), audio_sample("a2", 0.3, 8000), audio_sample("st", 0.3, 22050, stereo=True)]

    def bad_samples(self):
        return bad_audio()


@NEEDS_SOX
class TestPitchShiftContract(_AudioAug):
    name = "audio.pitch-shift"
    params = {"semitones": [-2, 2]}


@NEEDS_SOX
class TestTimeStretchContract(_AudioAug):
    name = "audio.time-stretch"
    params = {"rate": [0.9, 1.1]}


class TestGainContract(_AudioAug):
    name = "audio.gain"
    params = {"db": [-6, 6]}


class TestNoiseContract(_AudioAug):
    name = "audio.noise"
    params = {"snr_db": [10, 30]}


class TestSpeedContract(_AudioAug):
    name = "audio.speed"
    params = {"factor": [0.9, 1.1]}


@NEEDS_SOX
def test_pitch_shift_replay_moves_pitch_by_recorded_semitones():
    aug = create("augmentation", "audio.pitch-shift", semitones=[-3, 3])
    s = Sample("t", {"audio": Audio(tone(440), 16000)})
    out = aug.augment(s, np.random.default_rng(4))
    k = out.lineage[-1].params["semitones"]
    assert -3 <= k <= 3
    assert dominant(out["audio"].samples, 16000) == pytest.approx(440 * 2 ** (k / 12), abs=8)


def test_cents_range_overrides_semitones():
    aug = create("augmentation", "audio.pitch-shift", cents=[150, 150])
    assert aug.sample_params(audio_sample(), np.random.default_rng(0)) == {"semitones": 1.5}


@NEEDS_SOX
def test_time_stretch_duration_follows_recorded_rate():
    aug = create("augmentation", "audio.time-stretch", rate=[0.8, 1.2])
    s = Sample("t", {"audio": Audio(tone(440), 16000)})
    out = aug.augment(s, np.random.default_rng(1))
    r = out.lineage[-1].params["rate"]
    assert out["audio"].duration == pytest.approx(1.0 / r, abs=0.02)


def test_noise_snr_recorded_and_achieved():
    from crossaug_audio.dsp.level import snr_db

    s = Sample("t", {"audio": Audio(tone(440), 16000)})
    out = create("augmentation", "audio.noise", snr_db=[5, 15]).augment(s, np.random.default_rng(2))
    p = out.lineage[-1].params
    measured = snr_db(s["audio"].samples, out["audio"].samples.astype(np.float64) - s["audio"].samples)
    assert measured == pytest.approx(p["snr_db"], abs=1e-3)


def test_gain_keeps_rate_and_channels_on_stereo():
    s = audio_sample(stereo=True)
    out = create("augmentation", "audio.gain", db=[-6.0206, -6.0206]).augment(s, np.random.default_rng(0))
    assert out["audio"].sample_rate == 16000 and out["audio"].channels == 2
    assert np.allclose(out["audio"].samples, s["audio"].samples * 0.5, atol=1e-5)


def test_clipped_input_stays_in_range_under_gain():
    x = np.clip(tone(200) * 4, -1, 1)
    s = Sample("clip", {"audio": Audio(x, 16000)})
    out = create("augmentation", "audio.gain", db=[6, 6]).augment(s, np.random.default_rng(0))
    assert float(np.max(np.abs(out["audio"].samples))) <= 1.0


@pytest.mark.parametrize("name,params", [
    ("audio.pitch-shift", {"semitones": [3, 1]}),
    ("audio.pitch-shift", {"backend": "rubberband"}),
    ("audio.time-stretch", {"rate": [0, 1]}),
    ("audio.gain", {"db": "loud"}),
    ("audio.noise", {"color": "blue"}),
    ("audio.speed", {"factor": [float("nan"), 1]}),
])
def test_bad_config_is_config_error(name, params):
    with pytest.raises(ConfigError):
        create("augmentation", name, **params)
