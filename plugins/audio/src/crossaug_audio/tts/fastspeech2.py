"""``audio.tts.fastspeech2``: ESPnet's FastSpeech2 (Conformer) + HiFi-GAN through transformers.

This is the paper's ``F`` (Back-Modality used ESPnet's FastSpeech2). Weights
come from a Hugging Face id or a local directory, resolved offline first.

Example:
    >>> FastSpeech2TTS().model_id
    'espnet/fastspeech2_conformer_with_hifigan'
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, BadSample, ConfigError, MissingDependency, Sample, resolve_model

from .._devices import check_dtype
from .._optional import optional_import
from ..model_loading import LazyModel, load_pretrained
from .base import TTS, check_max_chars
from .g2p import arpabet_tokens, load_cmudict, pocketsphinx_cmudict_path

log = logging.getLogger(__name__)

G2P = ("g2p_en", "cmudict")


class FastSpeech2TTS(LazyModel, TTS):
    """FastSpeech2 (Ren et al., 2021) with a Conformer encoder and HiFi-GAN vocoder.

    Text is phonemised to ARPAbet either by the model's tokenizer (``g2p="g2p_en"``,
    what the weights were trained with; needs the ``g2p-en`` package and its NLTK
    data) or offline from the CMU dictionary in the pocketsphinx wheel
    (``g2p="cmudict"``, approximate stress). In eval mode the model is
    deterministic, so the seed is recorded but unused. A NaN or infinite sample in the
    waveform (half precision overflowing) is a :class:`~crossaug.BadSample` of that
    sample, never a kept clip.

    Args:
        model: Hugging Face id or local directory of a ``FastSpeech2ConformerWithHifiGan``.
        tokenizer: id or directory of the tokenizer (``vocab.json``); default: ``model``'s
            directory when it has one, else ``espnet/fastspeech2_conformer``.
        g2p: ``g2p_en`` or ``cmudict``.
        revision: model revision (commit, tag) to resolve.
        device: ``auto`` (cuda, then mps, else cpu: :func:`crossaug.models.pick_device`), ``cpu``, ``cuda``.
        max_chars: longest chunk synthesised at once.
        in_field: text field read (default ``text``).
        out_field: audio field written (default ``audio``).
        dtype: ``auto`` (half precision on a GPU, float32 on CPU: :func:`crossaug.models.pick_dtype`),
            ``float32``, ``float16`` or ``bfloat16``.
    """

    name: ClassVar[str] = "audio.tts.fastspeech2"

    def __init__(self, model: str = "espnet/fastspeech2_conformer_with_hifigan", tokenizer: str | None = None,
                 g2p: str = "g2p_en", revision: str | None = None, device: str = "auto",
                 max_chars: int = 200, in_field: str | None = None, out_field: str | None = None,
                 dtype: str = "auto") -> None:
        if g2p not in G2P:
            raise ConfigError(f"g2p must be one of {list(G2P)}, got {g2p!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.g2p = g2p
        self.revision = revision
        self.device = device
        self.dtype = check_dtype(dtype)
        self.max_chars = check_max_chars(max_chars)
        self.in_field = in_field
        self.out_field = out_field


    def _load_model(self) -> tuple[Any, Any, dict[str, int]]:
        transformers = optional_import("transformers")
        path = resolve_model("transformers", self.model, self.revision)
        if self.tokenizer is not None:
            tok_path = resolve_model("transformers", self.tokenizer, None)
        elif (Path(path) / "vocab.json").exists():
            tok_path = path
        else:
            tok_path = resolve_model("transformers", "espnet/fastspeech2_conformer", None)
        net = load_pretrained(self, transformers, transformers.FastSpeech2ConformerWithHifiGan, path)
        vocab_file = Path(tok_path) / "vocab.json"
        if not vocab_file.exists():
            raise ConfigError(f"tokenizer directory {tok_path} has no vocab.json")
        vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
        if self.g2p == "g2p_en":
            try:
                tok = transformers.FastSpeech2ConformerTokenizer.from_pretrained(tok_path)
            except ImportError as exc:
                raise MissingDependency("pip install g2p-en (it downloads NLTK data once), "
                                        "or use g2p='cmudict' for the offline dictionary",
                                        what="g2p_en") from exc
        else:
            tok = load_cmudict(pocketsphinx_cmudict_path())
        return net, tok, vocab

    def _ids(self, text: str, tok: Any, vocab: dict[str, int]) -> list[int]:
        if self.g2p == "g2p_en":
            return list(tok(text)["input_ids"])
        unk = vocab.get("<unk>", 1)
        ids = [vocab.get(t, unk) for t in arpabet_tokens(text, tok, vocab)]
        return ids + [vocab.get("<sos/eos>", len(vocab) - 1)]

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        torch = optional_import("torch")
        net, tok, vocab = self._load()
        rate = int(getattr(net.config.vocoder_config, "sampling_rate", 22050))
        out = []
        with self._model_lock, torch.inference_mode():
            device = next(net.parameters()).device
            for text in texts:
                ids = torch.tensor([self._ids(text, tok, vocab)], dtype=torch.long, device=device)
                wave = net(input_ids=ids, return_dict=True).waveform
                x = wave.detach().float().cpu().numpy().reshape(-1)
                out.append(Audio(np.ascontiguousarray(x, dtype=np.float32), rate))
        return out

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        """As :meth:`TTS.transform_batch`; a waveform with a NaN or infinity is that sample's error."""
        out = []
        for sample, seed in zip(samples, seeds, strict=True):  # one sample at a time: its own error
            produced = super().transform_batch([sample], [seed])[0]
            if not np.isfinite(produced.payload.samples).all():
                raise BadSample(f"{self.name}: the model produced NaN or infinite audio (dtype "
                                f"{getattr(self, 'runtime_dtype', None) or self.dtype}); try dtype='float32'",
                                sample_id=sample.id, field=self.output_field)
            out.append(produced)
        return out
