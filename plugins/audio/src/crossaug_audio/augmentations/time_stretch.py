"""``audio.time-stretch``: change tempo by a random factor, keeping pitch.

Example:
    >>> import numpy as np
    >>> from crossaug import Audio, Sample
    >>> s = Sample("s", {"audio": Audio(np.zeros(1600, dtype=np.float32), 16000)})
    >>> TimeStretch(rate=[1, 1]).augment(s, np.random.default_rng(0))["audio"].duration
    0.1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio

from ..dsp.stretch import BACKENDS, time_stretch
from .base import AudioAugmentation, check_backend, check_range


class TimeStretch(AudioAugmentation):
    """Time stretching, the second of back-speech's ``H`` operations (Back-Modality, Sec. 3.2).

    A factor is drawn uniformly from ``rate`` (> 1 faster) and applied with sox
    ``tempo -s`` (WSOLA, default) or librosa's phase vocoder.

    Args:
        rate: ``[low, high]`` tempo factor range (default 0.9–1.1).
        backend: ``sox`` or ``librosa``.
        field: the audio field.
    """

    name: ClassVar[str] = "audio.time-stretch"

    def __init__(self, rate: Sequence[float] = (0.9, 1.1), backend: str = "sox", field: str = "audio") -> None:
        self.rate = check_range("rate", rate, low=0.1, high=10.0)
        self.backend = check_backend(backend, BACKENDS)
        self.field = field

    def sample_params(self, sample: Any, rng: np.random.Generator) -> dict[str, Any]:
        return {"rate": self.uniform(rng, self.rate)}

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        return Audio(time_stretch(audio.samples, audio.sample_rate, float(params["rate"]), self.backend),
                     audio.sample_rate)
