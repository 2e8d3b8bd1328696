"""In-process sox (libsox through ctypes) gives the ``sox`` program's output exactly."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from crossaug_audio.dsp import libsox
from crossaug_audio.dsp.sox import sox_effects

pytestmark = pytest.mark.skipif(not (shutil.which("sox") and libsox.available()),
                                reason="needs the sox program and libsox (apt-get install sox)")


def speech_like(seconds: float = 1.0, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(3)
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + rng.normal(0, 0.02, t.size)
    return x.astype(np.float32)


@pytest.mark.parametrize("effects", [["pitch", "150.0000"], ["pitch", "-230.5000"], ["tempo", "-s", "1.100000"],
                                     ["tempo", "-s", "0.850000"], ["vol", "0.5"],
                                     ["pitch", "120", "tempo", "-s", "1.05"]])
def test_in_process_chain_equals_the_sox_program(effects: list[str]) -> None:
    x = speech_like()
    ours = libsox.run_chain(x, 16000, effects)
    program, rate = sox_effects(x, 16000, effects, program=shutil.which("sox") or "sox")  # a path: the program
    assert rate == 16000
    assert ours.dtype == np.float32 and ours.shape == program.shape
    assert np.array_equal(ours, program)


def test_stereo_keeps_its_channels_and_equals_the_program() -> None:
    x = np.stack([speech_like(0.5), 0.5 * speech_like(0.5)], axis=1)
    ours = libsox.run_chain(x, 16000, ["pitch", "100"])
    program, _ = sox_effects(x, 16000, ["pitch", "100"], program=shutil.which("sox") or "sox")
    assert ours.shape == program.shape == x.shape and np.array_equal(ours, program)


def test_chains_outside_the_in_process_set_go_to_the_program() -> None:
    assert libsox.supports(["pitch", "100"]) and libsox.supports(["tempo", "-s", "1.1"])
    assert not libsox.supports(["reverse"]) and not libsox.supports(["rate", "8000"])
    x = speech_like(0.2)
    y, rate = sox_effects(x, 16000, ["reverse"])
    assert rate == 16000 and np.allclose(y, x[::-1], atol=1e-6)
    with pytest.raises(RuntimeError):
        libsox.run_chain(x, 16000, ["reverse"])


def test_bad_arguments_raise_instead_of_crashing() -> None:
    with pytest.raises(RuntimeError, match="tempo"):
        libsox.run_chain(speech_like(0.1), 16000, ["tempo", "-s", "not-a-number"])
