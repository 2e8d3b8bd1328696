"""The ``audio`` modality: a float32 waveform plus its sample rate.

Example:
    >>> import numpy as np
    >>> a = AudioModality().coerce((np.zeros(1600), 16000), sample_id="s1", field="audio")
    >>> a.sample_rate, a.duration
    (16000, 0.1)
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import BadSample
from ..modality import Modality, read_bytes
from .wav import WavError, read_wav, write_wav

#: Longest clip accepted by default, in seconds.
MAX_SECONDS = 600.0
MAX_RATE = 384_000


@dataclass(frozen=True, eq=False)
class Audio:
    """A waveform: ``samples`` float32 of shape ``(n,)`` or ``(n, channels)``, ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return round(len(self.samples) / float(self.sample_rate), 6)

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    def mono(self) -> Audio:
        """Average channels to mono."""
        if self.samples.ndim == 1:
            return self
        return Audio(self.samples.mean(axis=1).astype(np.float32), self.sample_rate)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Audio) and self.sample_rate == other.sample_rate
                and self.samples.shape == other.samples.shape
                and bool(np.array_equal(self.samples, other.samples)))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Audio({self.duration:.3f} s, {self.sample_rate} Hz, {self.channels} ch)"


class AudioModality(Modality):
    """Audio clips. Coerces WAV paths/bytes, ``(array, rate)`` tuples and Hugging Face
    ``{"array": ..., "sampling_rate": ...}`` dicts; rejects empty, non-finite, bad-rate
    and over-long clips."""

    name: ClassVar[str] = "audio"
    payload_type: ClassVar[type] = Audio
    extension: ClassVar[str] = ".wav"
    inline: ClassVar[bool] = False

    def _coerce(self, value: Any, *, sample_id: str | None, field: str | None,
                base_dir: Path | None) -> Any:
        if isinstance(value, Audio):
            return value
        if isinstance(value, (str, Path)):
            p = Path(value)
            if not p.is_absolute() and base_dir is not None:
                p = base_dir / p
            return self.load(p, sample_id=sample_id, field=field)
        if isinstance(value, (bytes, bytearray)):
            return self._decode(bytes(value), sample_id=sample_id, field=field, source=None)
        if isinstance(value, Mapping) and "array" in value and "sampling_rate" in value:
            return self._from_array(value["array"], value["sampling_rate"], sample_id, field)
        if isinstance(value, tuple) and len(value) == 2:
            return self._from_array(value[0], value[1], sample_id, field)
        if isinstance(value, np.ndarray):
            raise BadSample("a bare array has no sample rate; pass (array, sample_rate)",
                            sample_id=sample_id, field=field)
        raise BadSample(f"cannot make audio from {type(value).__name__}", sample_id=sample_id, field=field)

    @staticmethod
    def _from_array(array: Any, rate: Any, sample_id: str | None, field: str | None) -> Audio:
        try:
            x = np.asarray(array)
        except Exception:
            raise BadSample("audio samples are not array-like", sample_id=sample_id, field=field) from None
        if x.dtype.kind not in "fiu":
            raise BadSample(f"audio samples have dtype {x.dtype}; expected numbers",
                            sample_id=sample_id, field=field)
        if x.dtype.kind in "iu":
            half = 2.0 ** (np.iinfo(x.dtype).bits - 1)
            offset = half if x.dtype.kind == "u" else 0.0
            x = (x.astype(np.float64) - offset) / half
        if not isinstance(rate, (int, np.integer)) or isinstance(rate, bool):
            if isinstance(rate, float) and rate.is_integer():
                rate = int(rate)
            else:
                raise BadSample(f"sample rate must be an integer, got {rate!r}", sample_id=sample_id, field=field)
        return Audio(np.ascontiguousarray(x, dtype=np.float32), int(rate))

    def validate(self, payload: Any, *, sample_id: str | None = None,
                 field: str | None = None) -> None:
        if not isinstance(payload, Audio):
            raise BadSample(f"expected Audio, got {type(payload).__name__}", sample_id=sample_id, field=field)
        x, sr = payload.samples, payload.sample_rate
        if not isinstance(x, np.ndarray) or x.dtype != np.float32:
            raise BadSample("audio samples must be a float32 numpy array", sample_id=sample_id, field=field)
        if not 0 < sr <= MAX_RATE:
            raise BadSample(f"sample rate {sr} Hz; expected 1..{MAX_RATE}", sample_id=sample_id, field=field)
        if x.ndim not in (1, 2):
            raise BadSample(f"audio array has {x.ndim} dimensions; expected (n,) or (n, channels)",
                            sample_id=sample_id, field=field)
        if x.shape[0] == 0:
            raise BadSample("zero-length audio", sample_id=sample_id, field=field)
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).sum())
            raise BadSample(f"audio has {bad} non-finite samples (NaN/inf)", sample_id=sample_id, field=field)
        if x.shape[0] / sr > MAX_SECONDS:
            raise BadSample(f"audio lasts {x.shape[0] / sr:.0f} s; limit is {MAX_SECONDS:.0f} s "
                            "(split long recordings first)", sample_id=sample_id, field=field)

    def load(self, path: Path, *, sample_id: str | None = None, field: str | None = None) -> Audio:
        data = read_bytes(path, sample_id=sample_id, field=field)
        return self._decode(data, sample_id=sample_id, field=field, source=str(path))

    def _decode(self, data: bytes, *, sample_id: str | None, field: str | None,
                source: str | None) -> Audio:
        if not data:
            raise BadSample("empty audio file (0 bytes)", sample_id=sample_id, field=field, source=source)
        try:
            x, sr = read_wav(data)
        except WavError as exc:
            try:  # other formats through soundfile when available
                import io

                import soundfile as sf

                x, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=False)
            except ImportError:
                raise BadSample(f"cannot decode audio: {exc}; install soundfile for more formats",
                                sample_id=sample_id, field=field, source=source) from None
            except Exception:
                raise BadSample(f"cannot decode audio: {exc}", sample_id=sample_id, field=field,
                                source=source) from None
        return Audio(np.ascontiguousarray(x, dtype=np.float32), int(sr))

    def save(self, payload: Audio, stem: Path) -> Path:
        path = Path(str(stem) + self.extension)
        write_wav(path, payload.samples, payload.sample_rate, pcm16=True)
        return path

    def to_json(self, payload: Audio) -> Any:
        return {"sample_rate": payload.sample_rate, "seconds": payload.duration}

    def render(self, value: Any, *, relpath: str | None = None) -> str:
        if relpath is None:
            return f"<span>{html.escape(repr(value))}</span>"
        src = html.escape(relpath)
        return f'<audio controls preload="none" src="{src}"></audio>'
