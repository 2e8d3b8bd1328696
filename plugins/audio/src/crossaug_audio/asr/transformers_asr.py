"""The base of ASR backends on a ``transformers`` model with its processor (wav2vec2, Whisper).

A subclass names its processor and model classes; loading resolves the weights
offline first, puts the model on the device and dtype of the kernel's policy and
takes :attr:`ASR.sample_rate` from the processor's feature extractor, learnt
before any audio is prepared.

Example:
    >>> from crossaug_audio.asr.whisper import WhisperASR
    >>> WhisperASR.processor_class, WhisperASR.model_class
    ('WhisperProcessor', 'WhisperForConditionalGeneration')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import resolve_model

from .._optional import optional_import
from ..model_loading import LazyModel, load_pretrained
from .base import ASR


class TransformersASR(LazyModel, ASR):
    """ASR on ``transformers.<model_class>`` and ``transformers.<processor_class>`` loaded from ``model``.

    Subclasses set :attr:`processor_class` and :attr:`model_class` and store ``model``,
    ``revision``, ``device`` and ``dtype``; :meth:`_load` returns ``(net, processor)``.
    """

    processor_class: ClassVar[str] = "AutoProcessor"
    model_class: ClassVar[str] = ""

    def _load_model(self) -> tuple[Any, Any]:
        transformers = optional_import("transformers")
        path = resolve_model("transformers", self.model, self.revision)
        processor = getattr(transformers, self.processor_class).from_pretrained(path)
        net = load_pretrained(self, transformers, getattr(transformers, self.model_class), path)
        self.sample_rate = int(processor.feature_extractor.sampling_rate)
        return net, processor

    def transform_batch(self, samples: Sequence[Any], seeds: Sequence[int]) -> list[Any]:
        self._load()  # learn the model's sample rate before audio is prepared
        return super().transform_batch(samples, seeds)


__all__ = ["TransformersASR"]
