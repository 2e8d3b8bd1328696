"""``audio.tts.piper``: piper neural voices (ONNX) for users who have a voice file (extra ``[piper]``).

Example:
    >>> PiperTTS(voice="en_US-lessac-medium.onnx").model_id
    'en_US-lessac-medium.onnx'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Audio, resolve_model

from .._optional import optional_import
from ..model_loading import LazyModel
from .base import TTS, check_max_chars


class PiperTTS(LazyModel, TTS):
    """piper (VITS voices exported to ONNX) through the ``piper-tts`` package.

    Voices are not bundled: pass the path of a ``.onnx`` voice (its ``.onnx.json``
    beside it), e.g. from the rhasspy/piper-voices collection. Inference is
    deterministic (noise scales are fixed by the voice config).

    Args:
        voice: path of the ``.onnx`` voice file.
        speaker: speaker index for multi-speaker voices.
        max_chars: longest chunk synthesised at once.
        in_field: text field read (default ``text``).
        out_field: audio field written (default ``audio``).
    """

    name: ClassVar[str] = "audio.tts.piper"

    def __init__(self, voice: str = "en_US-lessac-medium.onnx", speaker: int | None = None,
                 max_chars: int = 400, in_field: str | None = None, out_field: str | None = None) -> None:
        self.voice = voice
        self.speaker = speaker
        self.max_chars = check_max_chars(max_chars)
        self.in_field = in_field
        self.out_field = out_field

    @property
    def model_id(self) -> str:
        return self.voice

    def _load_model(self) -> Any:
        piper = optional_import("piper", "piper")
        path = resolve_model("piper", self.voice, None)
        return piper.PiperVoice.load(path)

    def _speak(self, voice: Any, text: str) -> Audio:
        if hasattr(voice, "synthesize_stream_raw"):  # piper-tts 1.2
            kwargs = {"speaker_id": self.speaker} if self.speaker is not None else {}
            raw = b"".join(voice.synthesize_stream_raw(text, **kwargs))
            x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            return Audio(x, int(voice.config.sample_rate))
        syn = None
        if self.speaker is not None:
            syn = optional_import("piper").SynthesisConfig(speaker_id=self.speaker)
        chunks = list(voice.synthesize(text, syn_config=syn))
        if not chunks:
            return Audio(np.zeros(0, dtype=np.float32), int(voice.config.sample_rate))
        x = np.concatenate([np.asarray(c.audio_float_array, dtype=np.float32) for c in chunks])
        return Audio(x, int(chunks[0].sample_rate))

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        voice = self._load()
        with self._model_lock:
            return [self._speak(voice, t) for t in texts]
