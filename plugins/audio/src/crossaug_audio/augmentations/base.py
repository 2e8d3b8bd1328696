"""Shared plumbing of the audio augmentations: range arguments and the audio field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, ConfigError, Sample
from crossaug.augmentation import Augmentation


def check_range(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                exclusive_low: bool = False) -> list[float]:
    """Validate a ``[lo, hi]`` range argument (a single number means ``[v, v]``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value, value]
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ConfigError(f"{name} must be [low, high], got {value!r}")
    try:
        lo, hi = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must hold two numbers, got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ConfigError(f"{name} must be finite with low <= high, got {value!r}")
    if low is not None and (lo <= low if exclusive_low else lo < low):
        raise ConfigError(f"{name} must be {'>' if exclusive_low else '>='} {low}, got {value!r}")
    if high is not None and hi > high:
        raise ConfigError(f"{name} must be <= {high}, got {value!r}")
    return [lo, hi]


def check_backend(backend: str, allowed: Sequence[str]) -> str:
    if backend not in allowed:
        raise ConfigError(f"backend must be one of {list(allowed)}, got {backend!r}")
    return backend


class AudioAugmentation(Augmentation):
    """Base of waveform augmentations: reads and writes ``field`` (default ``audio``)."""

    modalities: ClassVar[tuple[str, ...]] = ("audio",)
    field: str = "audio"

    def uniform(self, rng: np.random.Generator, bounds: Sequence[float], digits: int = 6) -> float:
        """A uniform draw in ``bounds``, rounded so that it survives JSON unchanged."""
        lo, hi = bounds
        return lo if lo == hi else round(float(rng.uniform(lo, hi)), digits)

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        raise NotImplementedError

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        audio = sample[self.field]
        return sample.derive(None, **{self.field: self.transform(audio, params)})
