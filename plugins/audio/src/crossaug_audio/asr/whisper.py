"""``audio.asr.whisper``: Whisper speech recognition through transformers.

Example:
    >>> WhisperASR(model="openai/whisper-base").model_id
    'openai/whisper-base'
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, resolve_model

from .._optional import optional_import, torch_device
from .base import ASR

#: Whisper reads 30-second windows
WINDOW_SECONDS = 30


class WhisperASR(ASR):
    """Whisper (Radford et al., 2022), greedy or beam decoding, 30 s windows joined.

    Audio longer than 30 s is cut into consecutive windows whose transcripts are
    joined. Decoding is deterministic; the seed is recorded.

    Args:
        model: Hugging Face id or local directory of a Whisper model with its processor.
        language: spoken language passed to generation (``None``: let the model detect it
            or use its generation config).
        task: ``transcribe`` or ``translate``; ``None`` to use the model's generation config.
        num_beams: beam width (1: greedy).
        max_new_tokens: most tokens generated per window.
        revision: model revision to resolve.
        device: ``cpu``, ``cuda`` or ``auto``.
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
    """

    name: ClassVar[str] = "audio.asr.whisper"

    def __init__(self, model: str = "openai/whisper-base.en", language: str | None = None,
                 task: str | None = "transcribe", num_beams: int = 1, max_new_tokens: int = 200,
                 revision: str | None = None, device: str = "cpu", in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if task not in (None, "transcribe", "translate"):
            raise ConfigError(f"task must be 'transcribe', 'translate' or None, got {task!r}")
        if not isinstance(num_beams, int) or num_beams < 1:
            raise ConfigError(f"num_beams must be a positive integer, got {num_beams!r}")
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
        self.model = model
        self.language = language
        self.task = task
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self.revision = revision
        self.device = device
        self.in_field = in_field
        self.out_field = out_field


    def _load(self) -> tuple[Any, Any]:
        loaded = getattr(self, "_model", None)
        if loaded is None:
            transformers = optional_import("transformers")
            path = resolve_model("transformers", self.model, self.revision)
            processor = transformers.WhisperProcessor.from_pretrained(path)
            net = transformers.WhisperForConditionalGeneration.from_pretrained(path)
            net = net.to(torch_device(self.device)).eval()
            self.sample_rate = int(processor.feature_extractor.sampling_rate)
            loaded = self._model = (net, processor)
            self._model_lock = threading.Lock()
        return loaded

    def transform_batch(self, samples: Sequence[Any], seeds: Sequence[int]) -> list[Any]:
        self._load()
        return super().transform_batch(samples, seeds)

    def _generate_kwargs(self, net: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"num_beams": self.num_beams, "max_new_tokens": self.max_new_tokens,
                                  "do_sample": False}
        multilingual = bool(getattr(net.generation_config, "is_multilingual", False))
        if self.language is not None:
            kwargs["language"] = self.language
        if self.task is not None and multilingual:
            kwargs["task"] = self.task
        return kwargs

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        torch = optional_import("torch")
        net, processor = self._load()
        device = next(net.parameters()).device
        window = WINDOW_SECONDS * self.sample_rate
        out = []
        with self._model_lock, torch.inference_mode():
            for x in waves:
                parts = []
                for start in range(0, max(1, len(x)), window):
                    piece = x[start:start + window]
                    feats = processor.feature_extractor(piece, sampling_rate=self.sample_rate,
                                                        return_tensors="pt").input_features.to(device)
                    ids = net.generate(feats, **self._generate_kwargs(net))
                    parts.append(processor.batch_decode(ids, skip_special_tokens=True)[0].strip())
                out.append(" ".join(p for p in parts if p))
        return out
