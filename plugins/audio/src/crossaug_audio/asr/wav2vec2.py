"""``audio.asr.wav2vec2``: wav2vec 2.0 CTC speech recognition through transformers (the paper's ``G``).

Example:
    >>> Wav2Vec2ASR().model_id
    'facebook/wav2vec2-base-960h'
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import resolve_model

from .._optional import optional_import, torch_device
from .base import ASR


class Wav2Vec2ASR(ASR):
    """wav2vec 2.0 (Baevski et al., 2020) with a CTC head, greedy decoding.

    Each clip is run on its own (no padding), so a transcript never depends on
    the other clips of a batch. Greedy CTC is deterministic; the seed is recorded.

    Args:
        model: Hugging Face id or local directory of a ``*ForCTC`` model with its processor.
        revision: model revision to resolve.
        device: ``cpu``, ``cuda`` or ``auto``.
        lowercase: lower-case the transcript (English wav2vec2 models emit capitals).
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
    """

    name: ClassVar[str] = "audio.asr.wav2vec2"

    def __init__(self, model: str = "facebook/wav2vec2-base-960h", revision: str | None = None,
                 device: str = "cpu", lowercase: bool = True, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        self.model = model
        self.revision = revision
        self.device = device
        self.lowercase = bool(lowercase)
        self.in_field = in_field
        self.out_field = out_field


    def _load(self) -> tuple[Any, Any]:
        loaded = getattr(self, "_model", None)
        if loaded is None:
            transformers = optional_import("transformers")
            path = resolve_model("transformers", self.model, self.revision)
            processor = transformers.AutoProcessor.from_pretrained(path)
            net = transformers.AutoModelForCTC.from_pretrained(path).to(torch_device(self.device)).eval()
            self.sample_rate = int(processor.feature_extractor.sampling_rate)
            loaded = self._model = (net, processor)
            self._model_lock = threading.Lock()
        return loaded

    def transform_batch(self, samples: Sequence[Any], seeds: Sequence[int]) -> list[Any]:
        self._load()  # learn the model's sample rate before audio is prepared
        return super().transform_batch(samples, seeds)

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        torch = optional_import("torch")
        net, processor = self._load()
        device = next(net.parameters()).device
        out = []
        with self._model_lock, torch.inference_mode():
            for x in waves:
                if len(x) < self.sample_rate // 10:  # shorter than the conv stack's receptive field
                    x = np.pad(x, (0, self.sample_rate // 10 - len(x)))
                feats = processor(x, sampling_rate=self.sample_rate, return_tensors="pt")
                logits = net(feats.input_values.to(device)).logits
                ids = logits.argmax(dim=-1)[0].cpu().numpy()
                text = processor.decode(ids)
                out.append(text.lower() if self.lowercase else text)
        return out
