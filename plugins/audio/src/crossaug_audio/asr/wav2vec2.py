"""``audio.asr.wav2vec2``: wav2vec 2.0 CTC speech recognition through transformers (the paper's ``G``).

Example:
    >>> Wav2Vec2ASR().model_id
    'facebook/wav2vec2-base-960h'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from .._devices import check_batch_size, check_dtype
from .._optional import optional_import
from .base import NonFiniteOutput
from .transformers_asr import TransformersASR


class Wav2Vec2ASR(TransformersASR):
    """wav2vec 2.0 (Baevski et al., 2020) with a CTC head, greedy decoding.

    Up to ``batch_size`` clips share one forward pass: each clip is normalised on its
    own (as when it runs alone), the clips are sorted by length and zero-padded, and
    an ``attention_mask`` is passed where the feature extractor returns one
    (``return_attention_mask``: layer-norm models such as wav2vec2-large-960h-lv60);
    each clip's CTC frames are cut to its own length before decoding. Group-norm
    models (wav2vec2-base) take no mask, as their authors recommend: the zero padding
    enters the first layer's normalisation, so a transcript may differ from the
    one-clip run (a counted flip under the reproducibility contract; ``batch_size=1``
    avoids it). Greedy CTC is deterministic; the seed is recorded. NaN or infinite
    logits are a :class:`~crossaug.BadSample` of that clip's sample.

    Args:
        model: Hugging Face id or local directory of a ``*ForCTC`` model with its processor.
        revision: model revision to resolve.
        device: ``auto`` (cuda, then mps, else cpu: :func:`crossaug.models.pick_device`), ``cpu``, ``cuda``.
        lowercase: lower-case the transcript (English wav2vec2 models emit capitals).
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU: :func:`crossaug.models.pick_dtype`),
            ``float32``, ``float16`` or ``bfloat16``.
        batch_size: clips per forward pass.
    """

    name: ClassVar[str] = "audio.asr.wav2vec2"
    processor_class: ClassVar[str] = "AutoProcessor"
    model_class: ClassVar[str] = "AutoModelForCTC"

    def __init__(self, model: str = "facebook/wav2vec2-base-960h", revision: str | None = None,
                 device: str = "auto", lowercase: bool = True, in_field: str | None = None,
                 out_field: str | None = None, dtype: str = "auto", batch_size: int = 8) -> None:
        self.model = model
        self.revision = revision
        self.device = device
        self.dtype = check_dtype(dtype)
        self.batch_size = check_batch_size(batch_size)
        self.lowercase = bool(lowercase)
        self.in_field = in_field
        self.out_field = out_field


    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        torch = optional_import("torch")
        net, processor = self._load()
        param = next(net.parameters())
        extractor = getattr(processor, "feature_extractor", processor)
        use_mask = bool(getattr(extractor, "return_attention_mask", False))
        pad_value = float(getattr(extractor, "padding_value", 0.0))
        values = []
        for x in waves:
            if len(x) < self.sample_rate // 10:  # shorter than the conv stack's receptive field
                x = np.pad(x, (0, self.sample_rate // 10 - len(x)))
            feats = extractor(x, sampling_rate=self.sample_rate, return_tensors="np")  # normalised alone
            values.append(np.asarray(feats["input_values"][0], dtype=np.float32))
        out: list[str] = [""] * len(values)
        order = sorted(range(len(values)), key=lambda i: len(values[i]))
        with self._model_lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start:start + self.batch_size]
                lengths = [len(values[i]) for i in chunk]
                batch = np.full((len(chunk), max(lengths)), pad_value, dtype=np.float32)
                mask = np.zeros(batch.shape, dtype=np.int64)
                for row, i in enumerate(chunk):
                    batch[row, :lengths[row]] = values[i]
                    mask[row, :lengths[row]] = 1
                kwargs = {"attention_mask": torch.from_numpy(mask).to(param.device)} if use_mask else {}
                logits = net(torch.from_numpy(batch).to(param.device, param.dtype), **kwargs).logits
                self.calls = getattr(self, "calls", 0) + 1
                frames = net._get_feat_extract_output_lengths(torch.tensor(lengths)).tolist()
                for row, i in enumerate(chunk):
                    own = logits[row, :int(frames[row])]
                    if not bool(torch.isfinite(own).all()):
                        raise NonFiniteOutput(i)
                    ids = own.argmax(dim=-1).cpu().numpy()
                    text = processor.decode(ids)
                    out[i] = text.lower() if self.lowercase else text
        return out
