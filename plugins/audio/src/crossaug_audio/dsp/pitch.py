"""Pitch shifting that keeps duration: sox (time-domain, default) or librosa (phase vocoder).

Example:
    >>> import numpy as np
    >>> x = np.zeros(1600, dtype=np.float32)
    >>> pitch_shift(x, 16000, 0.0).shape    # zero shift returns the input unchanged
    (1600,)
"""

from __future__ import annotations

import numpy as np

from .sox import sox_effects

BACKENDS = ("sox", "librosa")


def pitch_shift_sox(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """sox ``pitch`` (WSOLA time stretch + resample): shift by ``semitones`` (100 cents each)."""
    y, _ = sox_effects(x, rate, ["pitch", f"{semitones * 100.0:.4f}"])
    return y


def pitch_shift_librosa(x: np.ndarray, rate: int, semitones: float) -> np.ndarray:
    """librosa ``effects.pitch_shift`` (phase vocoder + resample)."""
    from ._librosa import librosa

    x = np.asarray(x, dtype=np.float32)
    y = librosa().effects.pitch_shift(x.T, sr=int(rate), n_steps=float(semitones))
    return np.ascontiguousarray(y.T, dtype=np.float32)


def pitch_shift(x: np.ndarray, rate: int, semitones: float, backend: str = "sox") -> np.ndarray:
    """Shift pitch by ``semitones`` (positive: higher) with ``backend`` (``sox`` or ``librosa``)."""
    if semitones == 0:
        return np.asarray(x, dtype=np.float32).copy()
    if backend == "sox":
        return pitch_shift_sox(x, rate, semitones)
    if backend == "librosa":
        return pitch_shift_librosa(x, rate, semitones)
    raise ValueError(f"unknown pitch-shift backend {backend!r}; expected one of {BACKENDS}")
