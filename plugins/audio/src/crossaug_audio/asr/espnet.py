"""``audio.asr.espnet``: ESPnet ``Speech2Text`` (optional extra ``[espnet]``).

Example:
    >>> ESPnetASR(model="pyf98/librispeech_conformer").model_id
    'pyf98/librispeech_conformer'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError

from .._optional import optional_import, torch_device
from ..espnet_files import local_espnet_files
from ..model_loading import LazyModel
from .base import ASR


class ESPnetASR(LazyModel, ASR):
    """ESPnet2 speech recognition (Watanabe et al., 2018); beam search, deterministic.

    Args:
        model: an ESPnet model-zoo tag (needs ``espnet_model_zoo`` and its cache), or a
            local directory holding ``config.yaml`` and ``model.pth`` (as unpacked from the zoo).
        beam_size: beam width.
        sample_rate: the model's input rate in Hz.
        device: ``auto`` (cuda, then mps, else cpu: :func:`crossaug.models.pick_device`), ``cpu``, ``cuda``.
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
    """

    name: ClassVar[str] = "audio.asr.espnet"

    def __init__(self, model: str = "pyf98/librispeech_conformer", beam_size: int = 10,
                 sample_rate: int = 16000, device: str = "auto", in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not isinstance(beam_size, int) or beam_size < 1:
            raise ConfigError(f"beam_size must be a positive integer, got {beam_size!r}")
        if not isinstance(sample_rate, int) or sample_rate < 1000:
            raise ConfigError(f"sample_rate must be an integer >= 1000, got {sample_rate!r}")
        self.model = model
        self.beam_size = beam_size
        self.sample_rate = sample_rate
        self.device = device
        self.in_field = in_field
        self.out_field = out_field

    def _load_model(self) -> Any:
        mod = optional_import("espnet2.bin.asr_inference", "espnet")
        files = local_espnet_files(self.model)
        if files is not None:
            config, weights = files
            return mod.Speech2Text(asr_train_config=config, asr_model_file=weights,
                                   beam_size=self.beam_size, device=torch_device(self.device))
        optional_import("espnet_model_zoo", "espnet")
        return mod.Speech2Text.from_pretrained(self.model, beam_size=self.beam_size,
                                               device=torch_device(self.device))

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        net = self._load()
        out = []
        with self._model_lock:
            for x in waves:
                results = net(x)
                out.append(results[0][0] if results else "")
        return out
