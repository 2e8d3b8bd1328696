"""The ``TTS`` interface: text in, one :class:`~crossaug.Audio` clip out per (sample, seed).

A backend implements :meth:`TTS.synthesize` for a list of text chunks. The base
class checks that the text is speakable (a clear per-sample :class:`BadSample`
otherwise), splits long text into sentence/clause chunks, and joins the chunk
clips with a short pause into one clip.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, BadSample, ConfigError, MissingDependency, Produced, Sample
from crossaug.transform import Transform

from ..dsp.resample import mix_to_mono, resample
from .chunking import speakable_problem, split_for_tts

log = logging.getLogger(__name__)

#: pause inserted between chunks, in seconds
CHUNK_PAUSE = 0.15


class TTS(Transform):
    """Base class of text-to-speech transforms (``source`` text, ``target`` audio).

    Subclasses set ``name``, store ``max_chars`` and implement :meth:`synthesize`.
    ``latin_only`` says the voice reads only Latin-script (English) text.
    """

    source: ClassVar[str] = "text"
    target: ClassVar[str] = "audio"
    #: with a result cache (``--cache-dir``), a rerun replays each clip/transcript instead of recomputing it
    cacheable: ClassVar[bool] = True
    latin_only: bool = True
    max_chars: int = 400
    batch_size: int = 8

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        """One clip per text chunk (all from the same sample and seed)."""
        raise NotImplementedError

    def prepare(self, sample: Sample) -> list[str]:
        """Speakable chunks of the sample's text, or :class:`BadSample` saying why there are none."""
        text = sample[self.input_field]
        problem = speakable_problem(text, latin_only=self.latin_only)
        if problem:
            raise BadSample(f"{self.name}: {problem}", sample_id=sample.id, field=self.input_field)
        return split_for_tts(text, self.max_chars)

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        out = []
        for sample, seed in zip(samples, seeds, strict=False):
            chunks = self.prepare(sample)
            clips = self.synthesize(chunks, seed)
            try:
                audio = join_clips(clips)
            except ValueError as exc:
                raise BadSample(f"{self.name}: {exc}", sample_id=sample.id, field=self.input_field) from None
            info = {"chunks": len(chunks)} if len(chunks) > 1 else {}
            out.append(Produced(audio, info))
        return out


def join_clips(clips: Sequence[Audio], pause: float = CHUNK_PAUSE) -> Audio:
    """Concatenate mono clips (resampled to the first clip's rate) with ``pause`` seconds between."""
    clips = [c for c in clips if c is not None and len(c.samples)]
    if not clips:
        raise ValueError("the voice produced no audio")
    rate = clips[0].sample_rate
    gap = np.zeros(int(round(pause * rate)), dtype=np.float32)
    parts: list[np.ndarray] = []
    for i, c in enumerate(clips):
        if i:
            parts.append(gap)
        parts.append(resample(mix_to_mono(c.samples), c.sample_rate, rate))
    return Audio(np.ascontiguousarray(np.concatenate(parts), dtype=np.float32), rate)


def require_program(program: str, hint: str) -> str:
    """Absolute path of ``program`` or :class:`MissingDependency` with ``hint``."""
    path = shutil.which(program)
    if path is None:
        raise MissingDependency(hint, what=f"the {program!r} program")
    return path


def check_max_chars(max_chars: Any) -> int:
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 20:
        raise ConfigError(f"max_chars must be an integer >= 20, got {max_chars!r}")
    return max_chars
