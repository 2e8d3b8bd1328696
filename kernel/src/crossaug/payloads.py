"""Plain values to payloads and back: what ``crossaug.augment`` and ``Augmentation(...)`` accept.

Example:
    >>> import numpy as np
    >>> audio = to_payload(np.zeros(4, dtype=np.float32), "audio", 8000, "s0")
    >>> type(audio).__name__, audio.sample_rate, type(from_payload(audio, (np.zeros(4), 8000))).__name__
    ('Audio', 8000, 'tuple')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .modalities.audio import Audio
from .modality import field_modality


def is_audio_pair(value: Any) -> bool:
    """Whether ``value`` is an ``(array, sample_rate)`` pair."""
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (int, np.integer))


def to_payload(value: Any, field: str, sample_rate: int | None, sample_id: str) -> Any:
    """Coerce a plain value into ``field``'s modality (an array with ``sample_rate`` becomes audio)."""
    if sample_rate is not None and isinstance(value, np.ndarray):
        value = (value, int(sample_rate))
    return field_modality(field).coerce(value, sample_id=sample_id, field=field)


def from_payload(payload: Any, like: Any) -> Any:
    """``payload`` in the form of the input ``like`` (arrays stay arrays, ``(array, rate)`` pairs stay pairs)."""
    if isinstance(payload, Audio) and is_audio_pair(like):
        return payload.samples, payload.sample_rate
    if isinstance(like, np.ndarray):
        return payload.samples if isinstance(payload, Audio) else np.asarray(payload)
    return payload


__all__ = ["to_payload", "from_payload", "is_audio_pair"]
