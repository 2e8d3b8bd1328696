"""Level operations: gain in dB, signal power, additive noise at a target SNR.

Example:
    >>> import numpy as np
    >>> apply_gain(np.array([0.1, -0.2], dtype=np.float32), 20.0).round(6).tolist()
    [1.0, -1.0]
    >>> x = np.ones(1000, dtype=np.float32)
    >>> round(snr_db(x, add_noise(x, 10.0, seed=0) - x), 6)
    10.0
"""

from __future__ import annotations

import numpy as np


def db_to_amplitude(db: float) -> float:
    """Amplitude ratio for a level change of ``db`` decibels (``10 ** (db / 20)``)."""
    return float(10.0 ** (db / 20.0))


def apply_gain(x: np.ndarray, db: float, clip: bool = True) -> np.ndarray:
    """Scale ``x`` by ``db`` decibels; with ``clip`` the result is limited to [-1, 1]."""
    y = np.asarray(x, dtype=np.float32) * np.float32(db_to_amplitude(db))
    return np.clip(y, -1.0, 1.0) if clip else y


def power(x: np.ndarray) -> float:
    """Mean power (mean square) of ``x`` over all samples and channels."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean(x * x)) if x.size else 0.0


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """Signal-to-noise ratio ``10 log10(P_signal / P_noise)`` in dB."""
    return float(10.0 * np.log10(power(signal) / power(noise)))


def add_noise(x: np.ndarray, snr: float, seed: int, color: str = "white") -> np.ndarray:
    """Add Gaussian noise scaled so that the signal-to-noise ratio is exactly ``snr`` dB.

    The noise is drawn from ``numpy.random.default_rng(seed)``. Silent input has
    no defined SNR and is returned unchanged.

    Args:
        x: ``(n,)`` or ``(n, channels)`` samples.
        snr: target SNR in dB.
        seed: noise seed (record it to replay).
        color: ``white`` or ``pink`` (1/f power, shaped in the frequency domain).
    """
    x = np.asarray(x, dtype=np.float32)
    p_signal = power(x)
    if p_signal == 0.0:
        return x.copy()
    noise = np.random.default_rng(int(seed)).standard_normal(x.shape)
    if color == "pink":
        spec = np.fft.rfft(noise, axis=0)
        f = np.arange(spec.shape[0], dtype=np.float64)
        f[0] = 1.0
        shape = 1.0 / np.sqrt(f)
        spec *= shape if spec.ndim == 1 else shape[:, None]
        noise = np.fft.irfft(spec, n=x.shape[0], axis=0)
    elif color != "white":
        raise ValueError(f"noise color must be 'white' or 'pink', got {color!r}")
    noise *= np.sqrt(p_signal / (power(noise) * 10.0 ** (snr / 10.0)))
    return (x.astype(np.float64) + noise).astype(np.float32)
