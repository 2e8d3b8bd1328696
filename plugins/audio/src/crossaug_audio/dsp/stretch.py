"""Time stretching that keeps pitch: sox ``tempo`` (WSOLA, default) or librosa (phase vocoder).

``rate`` > 1 speeds speech up (shorter output), as in librosa and audiomentations.

Example:
    >>> import numpy as np
    >>> time_stretch(np.zeros(1600, dtype=np.float32), 16000, 1.0).shape
    (1600,)
"""

from __future__ import annotations

import numpy as np

from .sox import sox_effects

BACKENDS = ("sox", "librosa")


def time_stretch_sox(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """sox ``tempo -s`` (WSOLA tuned for speech) by ``factor``."""
    y, _ = sox_effects(x, rate, ["tempo", "-s", f"{factor:.6f}"])
    return y


def time_stretch_librosa(x: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """librosa ``effects.time_stretch`` (phase vocoder) by ``factor``."""
    from ._librosa import librosa

    x = np.asarray(x, dtype=np.float32)
    y = librosa().effects.time_stretch(x.T, rate=float(factor))
    return np.ascontiguousarray(y.T, dtype=np.float32)


def time_stretch(x: np.ndarray, rate: int, factor: float, backend: str = "sox") -> np.ndarray:
    """Change tempo by ``factor`` (> 1 faster) without changing pitch."""
    if factor <= 0:
        raise ValueError(f"stretch factor must be > 0, got {factor}")
    if factor == 1:
        return np.asarray(x, dtype=np.float32).copy()
    if backend == "sox":
        return time_stretch_sox(x, rate, factor)
    if backend == "librosa":
        return time_stretch_librosa(x, rate, factor)
    raise ValueError(f"unknown time-stretch backend {backend!r}; expected one of {BACKENDS}")
