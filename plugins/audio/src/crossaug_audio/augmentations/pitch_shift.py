"""``audio.pitch-shift``: shift pitch by a random number of semitones, keeping duration.

Example:
    >>> import numpy as np
    >>> from crossaug import Audio, Sample
    >>> aug = PitchShift(semitones=[0, 0])
    >>> s = Sample("s", {"audio": Audio(np.zeros(160, dtype=np.float32), 16000)})
    >>> aug.augment(s, np.random.default_rng(0)).lineage[-1].params
    {'semitones': 0.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio

from ..dsp.pitch import BACKENDS, pitch_shift
from .base import AudioAugmentation, check_backend, check_range


class PitchShift(AudioAugmentation):
    """Pitch shifting, the first of back-speech's ``H`` operations (Back-Modality, Sec. 3.2).

    A shift is drawn uniformly from ``semitones`` (or ``cents``, 100 per semitone)
    and applied with sox's time-domain ``pitch`` (default: ASR stays accurate on
    the result) or librosa's phase vocoder.

    Args:
        semitones: ``[low, high]`` shift range in semitones (default ±2, i.e. ±200 cents).
        cents: the range in cents instead; overrides ``semitones`` when given.
        backend: ``sox`` or ``librosa``.
        field: the audio field.
    """

    name: ClassVar[str] = "audio.pitch-shift"

    def __init__(self, semitones: Sequence[float] = (-2.0, 2.0), cents: Sequence[float] | None = None,
                 backend: str = "sox", field: str = "audio") -> None:
        self.semitones = check_range("semitones", semitones, low=-24, high=24)
        self.cents = None if cents is None else check_range("cents", cents, low=-2400, high=2400)
        self.backend = check_backend(backend, BACKENDS)
        self.field = field

    def sample_params(self, sample: Any, rng: np.random.Generator) -> dict[str, Any]:
        if self.cents is not None:
            return {"semitones": round(self.uniform(rng, self.cents, 4) / 100.0, 6)}
        return {"semitones": self.uniform(rng, self.semitones)}

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        return Audio(pitch_shift(audio.samples, audio.sample_rate, float(params["semitones"]), self.backend),
                     audio.sample_rate)
