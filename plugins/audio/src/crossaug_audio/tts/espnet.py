"""``audio.tts.espnet``: ESPnet ``Text2Speech`` (optional extra ``[espnet]``), e.g. the paper's FastSpeech2.

Example:
    >>> ESPnetTTS().model_id
    'kan-bayashi/ljspeech_fastspeech2'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio

from .._optional import optional_import, torch_device
from ..espnet_files import local_espnet_files
from ..model_loading import LazyModel
from .base import TTS, check_max_chars


class ESPnetTTS(LazyModel, TTS):
    """ESPnet2 text-to-speech (Hayashi et al., 2020) with its vocoder.

    Args:
        model: an ESPnet model-zoo tag (needs ``espnet_model_zoo`` and its cache) or a
            local directory with ``config.yaml`` and ``*.pth`` (as unpacked from the zoo).
        vocoder: vocoder tag (``None``: the model's own / Griffin-Lim).
        device: ``auto`` (cuda, then mps, else cpu: :func:`crossaug.models.pick_device`), ``cpu``, ``cuda``.
        max_chars: longest chunk synthesised at once.
        in_field: text field read (default ``text``).
        out_field: audio field written (default ``audio``).
    """

    name: ClassVar[str] = "audio.tts.espnet"

    def __init__(self, model: str = "kan-bayashi/ljspeech_fastspeech2", vocoder: str | None = None,
                 device: str = "auto", max_chars: int = 200, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        self.model = model
        self.vocoder = vocoder
        self.device = device
        self.max_chars = check_max_chars(max_chars)
        self.in_field = in_field
        self.out_field = out_field

    def _load_model(self) -> Any:
        mod = optional_import("espnet2.bin.tts_inference", "espnet")
        files = local_espnet_files(self.model)
        if files is not None:
            config, weights = files
            return mod.Text2Speech(train_config=config, model_file=weights, device=torch_device(self.device))
        optional_import("espnet_model_zoo", "espnet")
        return mod.Text2Speech.from_pretrained(model_tag=self.model, vocoder_tag=self.vocoder,
                                               device=torch_device(self.device))

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        net = self._load()
        out = []
        with self._model_lock:
            for text in texts:
                wav = net(text)["wav"]
                x = wav.detach().float().cpu().numpy().reshape(-1) if hasattr(wav, "detach") else np.asarray(wav)
                out.append(Audio(np.ascontiguousarray(x, dtype=np.float32), int(net.fs)))
        return out
