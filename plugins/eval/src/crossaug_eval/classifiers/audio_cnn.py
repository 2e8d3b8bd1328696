"""Log-mel spectrogram CNN: the evaluation's audio classifier.

Audio is mixed to mono, resampled to 16 kHz, cropped or zero-padded to a fixed
length and turned into a log-mel spectrogram (25 ms windows, 10 ms hop, 40 mel
bands: the usual speech front end); a small CNN maps it to an embedding and a
linear head, trained from scratch (no pretrained audio network ships offline).
Spectrograms are cached per distinct clip, so a grid of many trainings on the
same clips computes each once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug.sample import Sample

from .image_cnn import CNNClassifier, small_cnn
from .training import require_torch


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters (HTK mel scale), ``(n_mels, n_fft // 2 + 1)``.

    Example:
        >>> fb = mel_filterbank(16000, 400, 40)
        >>> fb.shape, bool((fb >= 0).all())
        ((40, 201), True)
    """
    fmax = fmax or sr / 2
    mel = lambda f: 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)
    hz = lambda m: 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)
    points = hz(np.linspace(mel(fmin), mel(fmax), n_mels + 2))
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    fb = np.zeros((n_mels, freqs.size))
    for i in range(n_mels):
        lo, mid, hi = points[i], points[i + 1], points[i + 2]
        up = (freqs - lo) / max(mid - lo, 1e-9)
        down = (hi - freqs) / max(hi - mid, 1e-9)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    return fb


def log_mel(samples: np.ndarray, sr: int, seconds: float = 2.0, target_sr: int = 16000, n_mels: int = 40) -> np.ndarray:
    """``(n_mels, frames)`` log-mel spectrogram of a clip cropped/padded to ``seconds``."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sr != target_sr:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(sr), target_sr)
        x = resample_poly(x, target_sr // g, int(sr) // g)
    n = int(seconds * target_sr)
    x = x[:n] if x.size >= n else np.pad(x, (0, n - x.size))
    n_fft, hop = 400, 160
    frames = 1 + (n - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(x[idx] * np.hanning(n_fft), axis=1)) ** 2
    return np.log(mel_filterbank(target_sr, n_fft, n_mels) @ spec.T + 1e-6).astype(np.float32)


class SpectrogramCNN(CNNClassifier):
    """Small CNN over log-mel spectrograms, trained from scratch.

    Args:
        field: the audio field classified.
        seconds: clip length the audio is cropped/padded to.
        n_mels: mel bands.
        steps: optimiser steps (whole epochs until reached), the same for every training-set size.
        lr: AdamW learning rate.
        batch_size: clips per step.
        epochs: train this many passes instead of ``steps``.
    """

    name: ClassVar[str] = "audio-cnn"

    def __init__(self, field: str = "audio", seconds: float = 2.0, n_mels: int = 40, steps: int = 300,
                 lr: float = 3e-3, batch_size: int = 16, epochs: int | None = None) -> None:
        self.field = field
        self.seconds = seconds
        self.n_mels = n_mels
        self.steps = steps
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self._net: Any = None
        self._classes: list[Any] = []
        self._stats = (0.0, 1.0)
        self._cache: dict[tuple[Any, ...], np.ndarray] = {}

    def _spectrograms(self, samples: Sequence[Sample]) -> np.ndarray:
        # a grid trains many models on the same clips: each distinct clip is transformed once
        # (keyed by its content; copies made by fresh() share the cache)
        out = []
        for s in samples:
            audio = s[self.field]
            wave = np.ascontiguousarray(audio.samples)
            key = (int(audio.sample_rate), wave.shape, str(wave.dtype),
                   hashlib.blake2b(wave.tobytes(), digest_size=16).digest())
            spec = self._cache.get(key)
            if spec is None:
                spec = self._cache[key] = log_mel(wave, audio.sample_rate, self.seconds, n_mels=self.n_mels)
            out.append(spec)
        return np.stack(out)[:, None]

    def _inputs(self, samples: Sequence[Sample]) -> Any:
        torch = require_torch()
        mean, std = self._stats
        return torch.from_numpy((self._spectrograms(samples) - mean) / std)

    def _prepare(self, samples: Sequence[Sample]) -> None:
        spec = self._spectrograms(samples)
        self._stats = (float(spec.mean()), float(spec.std()) or 1.0)

    def _build_net(self, classes: int) -> Any:
        return small_cnn(1, classes)


__all__ = ["SpectrogramCNN", "log_mel", "mel_filterbank"]
