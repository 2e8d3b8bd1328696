"""``audio.noise``: additive Gaussian noise at a random target signal-to-noise ratio.

Example:
    >>> import numpy as np
    >>> from crossaug import Audio, Sample
    >>> s = Sample("s", {"audio": Audio(np.ones(100, dtype=np.float32), 8000)})
    >>> sorted(Noise().sample_params(s, np.random.default_rng(0)))
    ['seed', 'snr_db']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, ConfigError
from crossaug.rng import draw_seed

from ..dsp.level import add_noise
from .base import AudioAugmentation, check_range


class Noise(AudioAugmentation):
    """Noise whose power is set from the clip's power so the SNR is exactly the drawn value.

    The noise seed is drawn from the step's generator and recorded, so replay
    reproduces the same noise. Silent clips are returned unchanged (no SNR).

    Args:
        snr_db: ``[low, high]`` target SNR range in dB (default 10–30).
        color: ``white`` or ``pink``.
        field: the audio field.
    """

    name: ClassVar[str] = "audio.noise"

    def __init__(self, snr_db: Sequence[float] = (10.0, 30.0), color: str = "white",
                 field: str = "audio") -> None:
        self.snr_db = check_range("snr_db", snr_db, low=-30, high=120)
        if color not in ("white", "pink"):
            raise ConfigError(f"color must be 'white' or 'pink', got {color!r}")
        self.color = color
        self.field = field

    def sample_params(self, sample: Any, rng: np.random.Generator) -> dict[str, Any]:
        return {"snr_db": self.uniform(rng, self.snr_db), "seed": draw_seed(rng)}

    def transform(self, audio: Audio, params: Mapping[str, Any]) -> Audio:
        return Audio(add_noise(audio.samples, float(params["snr_db"]), int(params["seed"]), self.color),
                     audio.sample_rate)
