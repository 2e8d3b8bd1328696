"""Recipe ``back-speech``: text -> TTS (F) -> pitch/tempo (H) -> ASR (G) -> text, filtered by edit distance.

Back-Modality (Fig. 1, Sec. 3.2): speak each sentence with ``F``, perturb the
speech with ``H`` (pitch shifting, time stretching), transcribe it back with
``G`` and discard transcripts whose edit distance from the original exceeds
20% of its length. The paper's ``F``/``G`` are ESPnet FastSpeech2 and
wav2vec 2.0; the defaults here are the embedded offline ones (flite voices,
sox, pocketsphinx) and every stage is a constructor argument.

Example:
    >>> r = BackSpeech(voices=["slt"], fan_out=[1, 2, 1])
    >>> r.to_dict()["params"]["fan_out"], [f.name for f in r.filters]
    ([1, 2, 1], ['audio.empty-transcript', 'text.edit-distance'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import ConfigError
from crossaug.augmentation import Augmentation
from crossaug.backmodality import BackModality
from crossaug.builtin.edit_distance import EditDistance
from crossaug.compose import Compose
from crossaug.transform import Transform

from .empty_transcript import EmptyTranscript

TTS_BACKENDS = ("flite", "espeak", "fastspeech2", "espnet", "piper")
ASR_BACKENDS = ("pocketsphinx", "wav2vec2", "whisper", "faster-whisper", "espnet")
AUGMENTATIONS = ("pitch", "tempo", "gain", "noise", "speed")
#: voices used when ``voices`` is not given (flite: the three voices pocketsphinx hears best)
DEFAULT_VOICES: dict[str, list[str | None]] = {"flite": ["slt", "rms", "awb"], "espeak": ["en-us"]}


def make_tts(backend: str, voice: str | None, options: dict[str, Any]) -> Transform:
    """A TTS transform for ``backend``; ``voice`` is a voice name (flite, espeak), model id or voice path."""
    if backend == "flite":
        from .tts.flite import FliteTTS
        return FliteTTS(voice=voice or "slt", **options)
    if backend == "espeak":
        from .tts.espeak import EspeakTTS
        return EspeakTTS(voice=voice or "en-us", **options)
    if backend == "fastspeech2":
        from .tts.fastspeech2 import FastSpeech2TTS
        return FastSpeech2TTS(**({"model": voice} if voice else {}), **options)
    if backend == "espnet":
        from .tts.espnet import ESPnetTTS
        return ESPnetTTS(**({"model": voice} if voice else {}), **options)
    if backend == "piper":
        from .tts.piper import PiperTTS
        return PiperTTS(**({"voice": voice} if voice else {}), **options)
    raise ConfigError(f"unknown TTS backend {backend!r}; expected one of {', '.join(TTS_BACKENDS)}")


def make_asr(backend: str, model: str | None, options: dict[str, Any]) -> Transform:
    """An ASR transform for ``backend`` (``model``: id or local path for model backends)."""
    kw = dict(options)
    if model:
        kw["hmm" if backend == "pocketsphinx" else "model"] = model
    if backend == "pocketsphinx":
        from .asr.pocketsphinx import PocketSphinxASR
        return PocketSphinxASR(**kw)
    if backend == "wav2vec2":
        from .asr.wav2vec2 import Wav2Vec2ASR
        return Wav2Vec2ASR(**kw)
    if backend == "whisper":
        from .asr.whisper import WhisperASR
        return WhisperASR(**kw)
    if backend == "faster-whisper":
        from .asr.faster_whisper import FasterWhisperASR
        return FasterWhisperASR(**kw)
    if backend == "espnet":
        from .asr.espnet import ESPnetASR
        return ESPnetASR(**kw)
    raise ConfigError(f"unknown ASR backend {backend!r}; expected one of {', '.join(ASR_BACKENDS)}")


def make_augmentation(kind: str, semitones: Sequence[float], tempo: Sequence[float], backend: str) -> Augmentation:
    if kind == "pitch":
        from .augmentations.pitch_shift import PitchShift
        return PitchShift(semitones=semitones, backend=backend)
    if kind == "tempo":
        from .augmentations.time_stretch import TimeStretch
        return TimeStretch(rate=tempo, backend=backend)
    if kind == "gain":
        from .augmentations.gain import Gain
        return Gain()
    if kind == "noise":
        from .augmentations.noise import Noise
        return Noise(snr_db=[20.0, 35.0])
    if kind == "speed":
        from .augmentations.speed import Speed
        return Speed(factor=[0.95, 1.05])
    raise ConfigError(f"unknown augmentation {kind!r}; expected some of {', '.join(AUGMENTATIONS)}")


class BackSpeech(BackModality):
    """Back-speech with plain, serialisable settings (``crossaug run back-speech -p tts=espeak``).

    Forward candidate number ``i`` of a sentence is spoken by voice number ``i``
    modulo the number of voices; each clip is perturbed ``m`` times by the ``augmentations`` chain (all applied
    in order, each with its own draw) and transcribed ``n`` times.

    Args:
        tts: TTS backend: ``flite`` (default), ``espeak``, ``fastspeech2``, ``espnet``, ``piper``.
        voices: one voice per forward candidate, cycled: flite/espeak voice names, piper voice
            paths, or model ids for ``fastspeech2``/``espnet``. ``None``: the backend's defaults
            (flite: ``slt``, ``rms``, ``awb``; espeak: ``en-us``; others: their default model).
        asr: ASR backend: ``pocketsphinx`` (default), ``wav2vec2``, ``whisper``,
            ``faster-whisper``, ``espnet``.
        asr_model: model id or local path for the ASR backend (``None``: its default).
        augmentations: the ``H`` chain, from ``pitch``, ``tempo``, ``gain``, ``noise``, ``speed``
            (paper: pitch shifting and time stretching).
        semitones: pitch-shift range in semitones.
        tempo: time-stretch factor range (> 1 faster).
        aug_backend: ``sox`` (time-domain, default) or ``librosa`` for pitch and tempo.
        threshold: largest accepted edit distance as a fraction of the sentence length (paper: 0.2).
        unit: ``word`` (paper) or ``char``.
        min_distance: smallest accepted distance (set > 0 to drop exact copies of the input).
        fan_out: ``[l, m, n]``: voices per input, augmentations per clip, transcripts per clip
            (default: ``[len(voices), 1, 1]``).
        keep: keep at most this many passing candidates per input (``None``: all).
        keep_intermediate: keep the augmented speech as the ``audio`` field of each output.
        tts_options: extra constructor arguments of the TTS backend.
        asr_options: extra constructor arguments of the ASR backend.
    """

    name: ClassVar[str] = "back-speech"
    input_fields: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, tts: str = "flite", voices: Sequence[str | None] | None = None,
                 asr: str = "pocketsphinx", asr_model: str | None = None,
                 augmentations: Sequence[str] = ("pitch", "tempo"),
                 semitones: Sequence[float] = (-2.0, 2.0), tempo: Sequence[float] = (0.9, 1.1),
                 aug_backend: str = "sox", threshold: float = 0.2, unit: str = "word",
                 min_distance: float = 0.0, fan_out: Sequence[int] | None = None, keep: int | None = None,
                 keep_intermediate: bool = True, tts_options: dict[str, Any] | None = None,
                 asr_options: dict[str, Any] | None = None) -> None:
        if isinstance(voices, str):
            voices = [voices]
        voice_list = list(voices) if voices else list(DEFAULT_VOICES.get(tts, [None]))
        if isinstance(augmentations, str):
            augmentations = [a for a in augmentations.replace("+", ",").split(",") if a]
        aug_list = [str(a) for a in augmentations]
        forward = [make_tts(tts, v, dict(tts_options or {})) for v in voice_list]
        backward = make_asr(asr, asr_model, dict(asr_options or {}))
        steps = [make_augmentation(a, semitones, tempo, aug_backend) for a in aug_list]
        augment = None if not steps else steps[0] if len(steps) == 1 else Compose(steps)
        edit = EditDistance(threshold=threshold, unit=unit, min_distance=min_distance)
        super().__init__(forward=forward, backward=backward, augment=augment,
                         filters=[EmptyTranscript(), edit],
                         fan_out=list(fan_out) if fan_out is not None else [len(voice_list), 1, 1],
                         keep=keep, keep_intermediate=keep_intermediate)
        self.tts = tts
        self.voices = voice_list
        self.asr = asr
        self.asr_model = asr_model
        self.augmentations = aug_list
        self.semitones = [float(x) for x in semitones]
        self.tempo = [float(x) for x in tempo]
        self.aug_backend = aug_backend
        self.threshold = float(threshold)
        self.unit = unit
        self.min_distance = float(min_distance)
        self.tts_options = dict(tts_options or {})
        self.asr_options = dict(asr_options or {})

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}
