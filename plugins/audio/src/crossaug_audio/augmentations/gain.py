"""``audio.gain``: scale the level by a random number of decibels.

Example:
    >>> import numpy as np
    >>> from crossaug import Audio, Sample
    >>> s = Sample("s", {"audio": Audio(np.full(4, 0.1, dtype=np.float32), 8000)})
    >>> Gain(db=[20, 20]).augment(s, np.random.default_rng(0))["audio"].samples.round(5).tolist()
    [1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio

from ..dsp.level import apply_gain
from .base import AudioAugmentation, check_range


class Gain(AudioAugmentation):
    """Level change drawn uniformly from ``db``.

    Args:
        db: ``[low, high]`` gain range in dB (default ±6).
        clip: limit the result to [-1, 1] (what a 16-bit file would hold).
        field: the audio field.
    """

    name: ClassVar[str] = "audio.gain"

    def __init__(self, db: Sequence[float] = (-6.0, 6.0), clip: bool = True, field: str = "audio") -> None:
        self.db = check_range("db", db, low=-120, high=120)
        self.clip = bool(clip)
        self.field = field

    def sample_params(self, sample: Any, rng: np.random.Generator) -> dict[str, Any]:
        return {"db": self.uniform(rng, self.db)}

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        return Audio(apply_gain(audio.samples, float(params["db"]), self.clip), audio.sample_rate)
