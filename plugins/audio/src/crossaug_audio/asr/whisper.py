"""``audio.asr.whisper``: Whisper speech recognition through transformers.

Example:
    >>> WhisperASR(model="openai/whisper-base").model_id
    'openai/whisper-base'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError

from .._devices import check_batch_size, check_dtype
from .._optional import optional_import
from .base import NonFiniteOutput
from .transformers_asr import TransformersASR

#: Whisper reads 30-second windows
WINDOW_SECONDS = 30


class WhisperASR(TransformersASR):
    """Whisper (Radford et al., 2022), greedy or beam decoding, 30 s windows joined.

    Audio longer than 30 s is cut into consecutive windows whose transcripts are
    joined. The windows of all clips of a batch are decoded together, ``batch_size``
    per ``generate`` call (Whisper pads every window to 30 s, so a window's features
    do not depend on the others). Decoding is deterministic; the seed is recorded. A
    NaN or infinite logit is a :class:`~crossaug.BadSample` of that clip's sample.

    Args:
        model: Hugging Face id or local directory of a Whisper model with its processor.
        language: spoken language passed to generation (``None``: let the model detect it
            or use its generation config).
        task: ``transcribe`` or ``translate``; ``None`` to use the model's generation config.
        num_beams: beam width (1: greedy).
        max_new_tokens: most tokens generated per window.
        revision: model revision to resolve.
        device: ``auto`` (cuda, then mps, else cpu: :func:`crossaug.models.pick_device`), ``cpu``, ``cuda``.
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU: :func:`crossaug.models.pick_dtype`),
            ``float32``, ``float16`` or ``bfloat16``.
        batch_size: 30-second windows per ``generate`` call.
    """

    name: ClassVar[str] = "audio.asr.whisper"
    processor_class: ClassVar[str] = "WhisperProcessor"
    model_class: ClassVar[str] = "WhisperForConditionalGeneration"

    def __init__(self, model: str = "openai/whisper-base.en", language: str | None = None,
                 task: str | None = "transcribe", num_beams: int = 1, max_new_tokens: int = 200,
                 revision: str | None = None, device: str = "auto", in_field: str | None = None,
                 out_field: str | None = None, dtype: str = "auto", batch_size: int = 8) -> None:
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
        self.dtype = check_dtype(dtype)
        self.batch_size = check_batch_size(batch_size)
        self.in_field = in_field
        self.out_field = out_field


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
        transformers = optional_import("transformers")
        net, processor = self._load()
        param = next(net.parameters())
        window = WINDOW_SECONDS * self.sample_rate
        pieces = [(c, x[start:start + window]) for c, x in enumerate(waves)
                  for start in range(0, max(1, len(x)), window)]
        parts: list[list[str]] = [[] for _ in waves]
        with self._model_lock, torch.inference_mode():
            for start in range(0, len(pieces), self.batch_size):
                chunk = pieces[start:start + self.batch_size]
                feats = processor.feature_extractor([p for _, p in chunk], sampling_rate=self.sample_rate,
                                                    return_tensors="pt").input_features
                guard = _guard(transformers, torch, self.num_beams)
                ids = net.generate(feats.to(param.device, param.dtype), **self._generate_kwargs(net),
                                   logits_processor=transformers.LogitsProcessorList([guard]))
                self.calls = getattr(self, "calls", 0) + 1
                if guard.rows:
                    raise NonFiniteOutput(chunk[min(guard.rows)][0])
                for (c, _), text in zip(chunk, processor.batch_decode(ids, skip_special_tokens=True), strict=True):
                    parts[c].append(text.strip())
        return [" ".join(p for p in clip if p) for clip in parts]


def _guard(transformers: Any, torch: Any, beams: int) -> Any:
    """A logits processor that records the rows (of ``beams`` beams each) holding a NaN or +inf."""

    class NonFiniteGuard(transformers.LogitsProcessor):
        def __init__(self) -> None:
            self.rows: set[int] = set()

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            bad = (torch.isnan(scores) | torch.isposinf(scores)).any(dim=-1)
            if bool(bad.any()):
                self.rows.update(int(r) // beams for r in bad.nonzero().flatten().tolist())
            return scores

    return NonFiniteGuard()
