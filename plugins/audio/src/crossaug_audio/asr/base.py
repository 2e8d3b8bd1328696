"""The ``ASR`` interface: audio in, one transcript out per (sample, seed).

The base class prepares audio the way every model expects it: channels are
mixed to mono and the clip is resampled to the model's rate (recorded in the
lineage). A backend implements :meth:`ASR.transcribe` on a list of mono float32
arrays at ``sample_rate``. An empty transcript (silence, noise) is returned as
``""`` and marked ``empty: true`` in the lineage; back-speech rejects it with
that reason. Digital silence (peak below -80 dBFS) is not decoded at all: it
transcribes to ``""`` (decoders hallucinate words on all-zero input).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, BadSample, Produced, Sample
from crossaug.transform import Transform

from ..dsp.resample import mix_to_mono, resample
from ..model_loading import LazyModel

log = logging.getLogger(__name__)

#: clips whose peak stays below this (-80 dBFS) are silence: empty transcript, no decoding
SILENCE_PEAK = 1e-4


def prepare_audio(audio: Audio, rate: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Mono float32 samples at ``rate`` plus what was done (for lineage)."""
    info: dict[str, Any] = {}
    x = audio.samples
    if x.ndim == 2:
        info["mixed_channels"] = int(x.shape[1])
        x = mix_to_mono(x)
    if audio.sample_rate != rate:
        info["resampled_from"] = int(audio.sample_rate)
        x = resample(x, audio.sample_rate, rate)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak >= 0.999:
        info["clipped_fraction"] = round(float(np.mean(np.abs(x) >= 0.999)), 6)
    return np.ascontiguousarray(x, dtype=np.float32), info


class NonFiniteOutput(Exception):
    """Raised by :meth:`ASR.transcribe`: the model's output for clip ``index`` holds a NaN or infinity."""

    def __init__(self, index: int) -> None:
        super().__init__(f"non-finite model output for clip {index}")
        self.index = index


def clean_transcript(text: str) -> str:
    """Collapse whitespace; strip filler markers such as ``<unk>`` or ``[NOISE]``."""
    words = [w for w in text.split() if not (w.startswith("<") and w.endswith(">"))
             and not (w.startswith("[") and w.endswith("]"))]
    return " ".join(words)


def _duration(sample: Any, field: str) -> float:
    """Seconds of ``sample``'s audio (0 when it has none: the step's checks report that)."""
    audio = getattr(sample, "fields", {}).get(field)
    try:
        return len(audio.samples) / float(audio.sample_rate)
    except (AttributeError, TypeError, ZeroDivisionError):
        return 0.0


class ASR(Transform):
    """Base class of speech-recognition transforms (``source`` audio, ``target`` text).

    Subclasses set ``name`` and the model's ``sample_rate`` and implement :meth:`transcribe`.
    """

    source: ClassVar[str] = "audio"
    target: ClassVar[str] = "text"
    #: with a result cache (``--cache-dir``), a rerun replays each clip/transcript instead of recomputing it
    cacheable: ClassVar[bool] = True
    sample_rate: int = 16000
    batch_size: int = 8

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        """One transcript per mono float32 array at :attr:`sample_rate`.

        A backend raises :class:`NonFiniteOutput` for a clip whose model output holds a NaN
        or infinity; the sample of that clip becomes a :class:`~crossaug.BadSample`.
        """
        raise NotImplementedError

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        prepared = [prepare_audio(s[self.input_field], self.sample_rate) for s in samples]
        heard = [i for i, (x, _) in enumerate(prepared) if x.size and float(np.max(np.abs(x))) >= SILENCE_PEAK]
        try:
            decoded = self.transcribe([prepared[i][0] for i in heard], [seeds[i] for i in heard]) if heard else []
        except NonFiniteOutput as exc:  # never a kept transcript: an error of that sample
            sample = samples[heard[exc.index]]
            raise BadSample(f"{self.name}: the model produced NaN or infinite outputs (dtype "
                            f"{getattr(self, 'runtime_dtype', None) or getattr(self, 'dtype', '?')}); "
                            "try dtype='float32'", sample_id=sample.id, field=self.input_field) from None
        texts = [""] * len(prepared)
        for i, text in zip(heard, decoded, strict=False):
            texts[i] = text
        out = []
        for (_, info), text in zip(prepared, texts, strict=False):
            text = clean_transcript(text or "")
            if not text:
                info = {**info, "empty": True}
            out.append(Produced(text, info))
        return out

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """As :meth:`Transform.__call__`, with the clips grouped by duration into model batches.

        More clips than ``batch_size`` are sorted by duration first (outputs are returned in
        the input order), so a padded batch holds clips of similar length.
        """
        if len(samples) <= max(1, int(self.batch_size or 1)):
            return super().__call__(samples, seeds)
        order = sorted(range(len(samples)), key=lambda i: _duration(samples[i], self.input_field))
        done = super().__call__([samples[i] for i in order], [seeds[i] for i in order])
        out: list[Sample] = list(done)
        for position, i in enumerate(order):
            out[i] = done[position]
        return out

    #: loaded models stay out of pickles (workers load their own), in any ASR backend
    __getstate__ = LazyModel.__getstate__
