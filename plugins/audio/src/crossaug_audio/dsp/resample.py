"""Resampling and channel mixing.

Example:
    >>> import numpy as np
    >>> resample(np.ones(8000, dtype=np.float32), 8000, 16000).shape
    (16000,)
    >>> mix_to_mono(np.array([[1.0, 0.0], [0.5, 0.5]], dtype=np.float32)).tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

import functools
from fractions import Fraction
from math import gcd

import numpy as np


def mix_to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of ``(n, channels)`` audio; mono input is returned as is."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        return x
    return x.mean(axis=1, dtype=np.float64).astype(np.float32)


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``, Kaiser window) from ``rate_in`` to ``rate_out``.

    Args:
        x: ``(n,)`` or ``(n, channels)`` samples.
        rate_in: current rate in Hz.
        rate_out: wanted rate in Hz.
    """
    x = np.asarray(x, dtype=np.float32)
    if rate_in == rate_out:
        return x
    g = gcd(int(rate_in), int(rate_out))
    up, down = int(rate_out) // g, int(rate_in) // g
    if up > 1000 or down > 1000:  # awkward ratios: approximate, length still right within one sample
        frac = Fraction(int(rate_out), int(rate_in)).limit_denominator(1000)
        up, down = frac.numerator, frac.denominator
    return _resample_poly(x, up, down)


def _resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """``scipy.signal.resample_poly(x, up, down, axis=0)`` of float32 ``x``, as float32, with its own
    Kaiser low-pass filter designed once per ratio instead of per call."""
    from scipy.signal import resample_poly

    g = gcd(up, down)
    up, down = up // g, down // g
    if up == down:  # nothing to filter: resample_poly returns a copy
        return resample_poly(x, up, down, axis=0).astype(np.float32)
    return resample_poly(x, up, down, axis=0, window=_low_pass(up, down)).astype(np.float32)


@functools.lru_cache(maxsize=64)
def _low_pass(up: int, down: int) -> np.ndarray:
    """The filter ``resample_poly`` designs for float32 input and a reduced ratio ``up/down`` (its
    default window, ``("kaiser", 5.0)``; cutoff ``1 / max(up, down)``, ``20 * max(up, down) + 1``
    taps, cast to float32): designing it was about three quarters of a speed change's time. At most
    about 5 MB are kept (64 ratios of up to 80 KB)."""
    from scipy.signal import firwin

    rate = max(up, down)
    taps = firwin(2 * 10 * rate + 1, 1.0 / rate, window=("kaiser", 5.0)).astype(np.float32)
    taps.flags.writeable = False  # resample_poly copies the filter it is given before scaling it
    return taps


def resample_by_factor(x: np.ndarray, factor: float, max_denominator: int = 1000) -> np.ndarray:
    """Resample to ``len(x) / factor`` samples (``factor`` > 1 shortens), via a rational approximation.

    Example:
        >>> import numpy as np
        >>> resample_by_factor(np.zeros(1000, dtype=np.float32), 2.0).shape
        (500,)
    """
    frac = Fraction(float(factor)).limit_denominator(max_denominator)
    # output length n * down / up with up/down = 1/factor
    return _resample_poly(np.asarray(x, dtype=np.float32), frac.denominator, frac.numerator)
