"""``audio.asr.faster-whisper``: Whisper on CTranslate2 (optional extra ``[whisper]``).

Example:
    >>> FasterWhisperASR(model="base.en").model_id
    'base.en'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, resolve_model

from .._optional import optional_import
from ..model_loading import LazyModel
from .base import ASR

SIZES = ("tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
         "large-v2", "large-v3", "distil-large-v3")


class FasterWhisperASR(LazyModel, ASR):
    """faster-whisper (SYSTRAN) transcription with beam search; deterministic (temperature 0).

    Args:
        model: a size name (``base.en``: the ``Systran/faster-whisper-base.en`` conversion,
            looked up in the local Hugging Face cache) or a local CTranslate2 model directory.
        language: spoken language (``None``: detect).
        beam_size: beam width.
        compute_type: CTranslate2 compute type (``int8``, ``float32``, ...).
        device: ``auto`` (CTranslate2's choice: cuda when available, else cpu), ``cpu`` or ``cuda``.
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
    """

    name: ClassVar[str] = "audio.asr.faster-whisper"

    def __init__(self, model: str = "base.en", language: str | None = "en", beam_size: int = 5,
                 compute_type: str = "int8", device: str = "auto", in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not isinstance(beam_size, int) or beam_size < 1:
            raise ConfigError(f"beam_size must be a positive integer, got {beam_size!r}")
        self.model = model
        self.language = language
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.device = device
        self.in_field = in_field
        self.out_field = out_field

    def _load_model(self) -> Any:
        fw = optional_import("faster_whisper", "whisper")
        name = f"Systran/faster-whisper-{self.model}" if self.model in SIZES else self.model
        path = resolve_model("hf", name, None)
        return fw.WhisperModel(path, device=self.device, compute_type=self.compute_type)

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        net = self._load()
        out = []
        with self._model_lock:
            for x in waves:
                segments, _ = net.transcribe(x, language=self.language, beam_size=self.beam_size,
                                             temperature=0.0, condition_on_previous_text=False)
                out.append(" ".join(seg.text.strip() for seg in segments))
        return out
