"""Speed change by resampling: tempo and pitch move together (tape-speed effect, Ko et al. 2015).

Example:
    >>> import numpy as np
    >>> change_speed(np.zeros(1600, dtype=np.float32), 1.25).shape
    (1280,)
"""

from __future__ import annotations

import numpy as np

from .resample import resample_by_factor


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """Play ``x`` ``factor`` times faster at the same sample rate (> 1: shorter and higher)."""
    if factor <= 0:
        raise ValueError(f"speed factor must be > 0, got {factor}")
    if factor == 1:
        return np.asarray(x, dtype=np.float32).copy()
    return resample_by_factor(x, factor)
