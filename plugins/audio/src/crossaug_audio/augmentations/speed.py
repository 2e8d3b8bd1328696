"""``audio.speed``: speed perturbation by resampling (tempo and pitch change together).

Example:
    >>> import numpy as np
    >>> from crossaug import Audio, Sample
    >>> s = Sample("s", {"audio": Audio(np.zeros(1600, dtype=np.float32), 16000)})
    >>> Speed(factor=[0.5, 0.5]).augment(s, np.random.default_rng(0))["audio"].duration
    0.2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio

from ..dsp.speed import change_speed
from .base import AudioAugmentation, check_range


class Speed(AudioAugmentation):
    """Speed perturbation as in Kaldi recipes (Ko et al., 2015: factors 0.9, 1.0, 1.1).

    Args:
        factor: ``[low, high]`` speed factor range (> 1 faster; default 0.9–1.1).
        field: the audio field.
    """

    name: ClassVar[str] = "audio.speed"

    def __init__(self, factor: Sequence[float] = (0.9, 1.1), field: str = "audio") -> None:
        self.factor = check_range("factor", factor, low=0.1, high=10.0)
        self.field = field

    def sample_params(self, sample: Any, rng: np.random.Generator) -> dict[str, Any]:
        return {"factor": self.uniform(rng, self.factor, 4)}

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        return Audio(change_speed(audio.samples, float(params["factor"])), audio.sample_rate)
