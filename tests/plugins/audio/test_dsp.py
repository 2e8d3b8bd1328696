"""Pure DSP functions (crossaug_audio/dsp) against hand-computed values and measurable invariants."""

from __future__ import annotations

import numpy as np
import pytest
from crossaug_audio.dsp.level import add_noise, apply_gain, db_to_amplitude, power, snr_db
from crossaug_audio.dsp.pitch import pitch_shift
from crossaug_audio.dsp.resample import mix_to_mono, resample
from crossaug_audio.dsp.speed import change_speed
from crossaug_audio.dsp.stretch import time_stretch

from .conftest import NEEDS_SOX


def tone(freq: float, seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[int(np.argmax(spec))])


def test_gain_hand_values():
    assert db_to_amplitude(20.0) == pytest.approx(10.0)
    assert db_to_amplitude(-6.0) == pytest.approx(0.501187, rel=1e-5)
    x = np.array([0.05, -0.2], dtype=np.float32)
    assert apply_gain(x, 20.0, clip=False).tolist() == pytest.approx([0.5, -2.0])
    assert apply_gain(x, 20.0, clip=True).tolist() == pytest.approx([0.5, -1.0])


def test_noise_hits_target_snr_and_is_seeded():
    x = tone(440)
    for target in (0.0, 10.0, 25.0):
        y = add_noise(x, target, seed=3)
        assert snr_db(x, y.astype(np.float64) - x) == pytest.approx(target, abs=1e-3)
    assert np.array_equal(add_noise(x, 10, seed=1), add_noise(x, 10, seed=1))
    assert not np.array_equal(add_noise(x, 10, seed=1), add_noise(x, 10, seed=2))
    pink = add_noise(x, 10, seed=1, color="pink")
    assert snr_db(x, pink.astype(np.float64) - x) == pytest.approx(10.0, abs=1e-3)


def test_noise_on_silence_is_identity():
    z = np.zeros(100, dtype=np.float32)
    assert np.array_equal(add_noise(z, 10, seed=0), z)
    assert power(z) == 0.0


def test_mix_to_mono_averages_channels():
    st = np.array([[1.0, -1.0], [0.5, 0.25]], dtype=np.float32)
    assert mix_to_mono(st).tolist() == [0.0, 0.375]


@pytest.mark.parametrize("rate_in,rate_out", [(8000, 16000), (96000, 16000), (44100, 16000), (22050, 16000)])
def test_resample_keeps_length_and_frequency(rate_in, rate_out):
    x = tone(500, 1.0, rate_in)
    y = resample(x, rate_in, rate_out)
    assert abs(len(y) - rate_out) <= 1
    assert dominant(y, rate_out) == pytest.approx(500, abs=2)


def test_speed_changes_length_and_pitch_together():
    x = tone(400)
    y = change_speed(x, 1.25)
    assert len(y) == 12800
    assert dominant(y, 16000) == pytest.approx(500, abs=3)   # 400 Hz * 1.25


@NEEDS_SOX
def test_sox_pitch_shift_moves_frequency_keeps_duration():
    x = tone(440)
    y = pitch_shift(x, 16000, 12.0)   # one octave up
    assert abs(len(y) - len(x)) <= 160
    assert dominant(y, 16000) == pytest.approx(880, abs=10)
    y = pitch_shift(x, 16000, -2.0)   # 440 * 2**(-2/12) = 392.0
    assert dominant(y, 16000) == pytest.approx(392.0, abs=6)


@NEEDS_SOX
def test_sox_time_stretch_changes_duration_keeps_pitch():
    x = tone(440)
    y = time_stretch(x, 16000, 1.25)
    assert len(y) == pytest.approx(12800, abs=200)
    assert dominant(y, 16000) == pytest.approx(440, abs=6)


@NEEDS_SOX
def test_sox_handles_stereo():
    st = np.stack([tone(440), tone(440)], axis=1)
    y = pitch_shift(st, 16000, 1.0)
    assert y.shape[1] == 2 and abs(y.shape[0] - st.shape[0]) <= 160


@pytest.mark.slow
def test_librosa_backends_match_the_musical_definition():
    pytest.importorskip("librosa")
    x = tone(440)
    assert dominant(pitch_shift(x, 16000, 12.0, backend="librosa"), 16000) == pytest.approx(880, abs=10)
    y = time_stretch(x, 16000, 2.0, backend="librosa")
    assert len(y) == pytest.approx(8000, abs=20)
    assert dominant(y, 16000) == pytest.approx(440, abs=6)


def test_zero_shifts_are_identity():
    x = tone(300, 0.1)
    assert np.array_equal(pitch_shift(x, 16000, 0.0), x)
    assert np.array_equal(time_stretch(x, 16000, 1.0), x)
    assert np.array_equal(change_speed(x, 1.0), x)


def test_resampling_with_the_filter_designed_once_is_scipys_own_resampling() -> None:
    """The Kaiser low-pass filter is designed once per ratio (three quarters of a speed change's
    time); every output must stay the samples ``resample_poly`` itself gives."""
    import random
    from fractions import Fraction

    from crossaug_audio.dsp.resample import resample, resample_by_factor
    from scipy.signal import resample_poly

    rnd, rng = random.Random(0), np.random.default_rng(0)
    for k in range(60):
        x = rng.standard_normal((rnd.randint(1, 20000),) + (() if k % 3 else (2,))).astype(np.float32)
        factor = rnd.choice([0.5, 0.9, 1.0, 1.1, 1.25, 2.0, rnd.uniform(0.5, 2.0)])
        frac = Fraction(factor).limit_denominator(1000)
        for _ in range(2):  # designed, then reused
            assert np.array_equal(resample_by_factor(x, factor),
                                  resample_poly(x, frac.denominator, frac.numerator, axis=0).astype(np.float32))
        rate_in, rate_out = rnd.choice([(8000, 16000), (22050, 16000), (44100, 48000), (48000, 16000)])
        g = np.gcd(rate_in, rate_out)
        assert np.array_equal(resample(x, rate_in, rate_out),
                              resample_poly(x, rate_out // g, rate_in // g, axis=0).astype(np.float32))
