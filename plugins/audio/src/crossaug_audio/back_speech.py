"""Recipe ``back-speech``: text -> TTS (F) -> pitch/tempo (H) -> ASR (G) -> text, filtered by edit distance.

Back-Modality (Fig. 2, Sec. 2.2; back-speech setup in Sec. 3.1-3.2): speak each
sentence with ``F``, perturb the speech with ``H`` (pitch shifting, time
stretching; every candidate draws its own shift and rate), transcribe it back
with ``G``, discard transcripts whose edit distance from the original exceeds
20% of its length, and sample k = ``keep`` of the distinct survivors. The paper's
``F``/``G`` are ESPnet FastSpeech2 and wav2vec 2.0; the defaults here are the
embedded offline ones (flite voices, sox, pocketsphinx). ``tts`` and ``asr`` take
any registered transform of the right modality pair, by entry-point name or
short alias (``flite`` = ``audio.tts.flite``); ``augmentations`` takes registered
audio augmentation names.

The edit distance is taken between spoken forms (``audio.spoken-edit-distance``:
"1932" and "nineteen thirty two" are the same words), transcripts with the same
spoken words as the input (``min_distance``) or as another kept transcript
(``duplicate``) are rejected, and kept transcripts get the input's casing and
punctuation back where their words align (``recase``).

Example:
    >>> r = BackSpeech(voices=["slt"], fan_out=[1, 2, 1])
    >>> r.to_dict()["params"]["fan_out"], [f.name for f in r.filters]
    ([1, 2, 1], ['audio.empty-transcript', 'audio.spoken-edit-distance', 'text.word-screen'])
    >>> r.forward[0].name, r.backward[0].name, r.keep
    ('audio.tts.flite', 'audio.asr.pocketsphinx', 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import registry
from crossaug.augmentation import Augmentation
from crossaug.backmodality import BackModality
from crossaug.builtin.word_screen import WordScreen
from crossaug.compose import Compose
from crossaug.rng import Seeder
from crossaug.sample import Sample
from crossaug.transform import Transform

from .empty_transcript import EmptyTranscript
from .recase import restore_case
from .spoken_edit_distance import SpokenEditDistance
from .spoken_form import spoken_form

#: voices used when ``voices`` is not given (flite: the three voices pocketsphinx hears best)
DEFAULT_VOICES: dict[str, list[str | None]] = {"audio.tts.flite": ["slt", "rms", "awb"],
                                               "audio.tts.espeak": ["en-us"]}
#: the short names of the paper's two H steps
AUGMENTATION_ALIASES = {"pitch": "audio.pitch-shift", "tempo": "audio.time-stretch"}


def _first_param(cls: type, names: Sequence[str]) -> str | None:
    accepted = cls.param_names() if hasattr(cls, "param_names") else []
    return next((n for n in names if n in accepted), None)


def model_settings(cls: type, device: str | None, dtype: str | None, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` plus ``device``/``dtype`` for a backend that takes them (``options`` win; ``None``: not set)."""
    accepted = cls.param_names() if hasattr(cls, "param_names") else []
    kw = {k: v for k, v in (("device", device), ("dtype", dtype)) if v is not None and k in accepted}
    return {**kw, **options}


def make_tts(name: str, voice: str | None, options: dict[str, Any], device: str | None = None,
             dtype: str | None = None) -> Transform:
    """The registered text -> audio transform ``name`` (full name or alias); ``voice`` sets its voice or model."""
    full = registry.resolve("transform", name, prefix="audio.tts.", source="text", target="audio")
    kw = model_settings(registry.load("transform", full), device, dtype, dict(options))
    arg = _first_param(registry.load("transform", full), ("voice", "model"))
    if voice and arg:
        kw[arg] = voice
    return registry.create("transform", full, **kw)


def make_asr(name: str, model: str | None, options: dict[str, Any], device: str | None = None,
             dtype: str | None = None) -> Transform:
    """The registered audio -> text transform ``name``; ``model`` sets its model id or path."""
    full = registry.resolve("transform", name, prefix="audio.asr.", source="audio", target="text")
    kw = model_settings(registry.load("transform", full), device, dtype, dict(options))
    arg = _first_param(registry.load("transform", full), ("model", "hmm"))
    if model and arg:
        kw[arg] = model
    return registry.create("transform", full, **kw)


def make_augmentation(name: str, semitones: Sequence[float], tempo: Sequence[float], backend: str,
                      options: dict[str, Any] | None = None) -> Augmentation:
    """The registered augmentation ``name`` (``pitch``, ``tempo``, ``audio.noise``, ``speed``, ...)."""
    full = registry.resolve("augmentation", AUGMENTATION_ALIASES.get(name, name), prefix="audio.")
    defaults: dict[str, dict[str, Any]] = {
        "audio.pitch-shift": {"semitones": semitones, "backend": backend},
        "audio.time-stretch": {"rate": tempo, "backend": backend},
        "audio.noise": {"snr_db": [20.0, 35.0]},
        "audio.speed": {"factor": [0.95, 1.05]},
    }
    return registry.create("augmentation", full, **{**defaults.get(full, {}), **dict(options or {})})


class BackSpeech(BackModality):
    """Back-speech with plain, serialisable settings (``crossaug run back-speech -p tts=espeak``).

    Forward candidate number ``i`` of a sentence is spoken by voice number ``i``
    modulo the number of voices; each clip is perturbed ``m`` times by the
    ``augmentations`` chain (all applied in order, each candidate with its own
    draw) and transcribed ``n`` times.

    Args:
        tts: a registered text -> audio transform: ``flite`` (default), ``espeak``,
            ``fastspeech2``, ``espnet``, ``piper`` or any plugin's (full name or alias).
        voices: one voice per forward candidate, cycled, passed as the backend's ``voice``
            (or ``model``) argument. ``None``: the backend's defaults (flite: ``slt``,
            ``rms``, ``awb``; espeak: ``en-us``; others: their default).
        asr: a registered audio -> text transform: ``pocketsphinx`` (default), ``wav2vec2``,
            ``whisper``, ``faster-whisper``, ``espnet`` or any plugin's.
        asr_model: model id or local path for the ASR backend (``None``: its default).
        augmentations: the ``H`` chain, registered audio augmentation names; ``pitch`` and
            ``tempo`` (the paper's two) stand for ``audio.pitch-shift`` and ``audio.time-stretch``.
        semitones: pitch-shift range in semitones (±2 = ±200 cents).
        tempo: time-stretch factor range (> 1 faster).
        aug_backend: ``sox`` (time-domain, default) or ``librosa`` for pitch and tempo.
        threshold: largest accepted spoken-form edit distance as a fraction of the sentence
            length (paper: 0.2).
        unit: ``word`` (paper) or ``char``.
        min_distance: smallest accepted distance; the default rejects transcripts with the
            same spoken words as the input (copies are not augmentations).
        fan_out: ``[l, m, n]``: voices per input, H draws per clip, transcripts per clip
            (default: ``[len(voices), 4, 1]``: 12 candidates with flite's three voices).
        keep: k, the distinct passing candidates sampled per input (paper: 5; ``None``: all).
            ``crossaug run --n N`` sets it.
        keep_intermediate: keep the augmented speech as the ``audio`` field of each output.
        tts_options: extra constructor arguments of the TTS backend.
        asr_options: extra constructor arguments of the ASR backend.
        dedupe: reject transcripts with the same spoken words as an earlier one of the same input.
        top_up: extra rounds with new seed keys for inputs left with fewer than ``keep``.
        recase: give kept transcripts the input's casing and punctuation where words align.
        screen: reject transcripts that introduce a word of the ``text.word-screen`` lists.
        device: torch device of every model step that takes one (FastSpeech2, wav2vec2,
            Whisper, ...): ``auto`` (cuda, then mps, else cpu) or ``cpu``, ``cuda``, ``cuda:1``;
            ``tts_options``/``asr_options`` override it per step.
        dtype: their dtype: ``auto`` (half precision on a GPU, float32 on CPU), ``float32``,
            ``float16`` or ``bfloat16``.
    """

    name: ClassVar[str] = "back-speech"
    input_fields: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, tts: str = "flite", voices: Sequence[str | None] | None = None,
                 asr: str = "pocketsphinx", asr_model: str | None = None,
                 augmentations: Sequence[str] = ("pitch", "tempo"),
                 semitones: Sequence[float] = (-2.0, 2.0), tempo: Sequence[float] = (0.9, 1.1),
                 aug_backend: str = "sox", threshold: float = 0.2, unit: str = "word",
                 min_distance: float = 0.01, fan_out: Sequence[int] | None = None, keep: int | None = 5,
                 keep_intermediate: bool = True, tts_options: dict[str, Any] | None = None,
                 asr_options: dict[str, Any] | None = None, dedupe: bool = True, top_up: int = 1,
                 recase: bool = True, screen: bool = True, device: str = "auto", dtype: str = "auto") -> None:
        if isinstance(voices, str):
            voices = [voices]
        tts_full = registry.resolve("transform", tts, prefix="audio.tts.", source="text", target="audio")
        voice_list = list(voices) if voices else list(DEFAULT_VOICES.get(tts_full, [None]))
        if isinstance(augmentations, str):
            augmentations = [a for a in augmentations.replace("+", ",").split(",") if a]
        aug_list = [str(a) for a in augmentations]
        forward = [make_tts(tts, v, dict(tts_options or {}), device, dtype) for v in voice_list]
        backward = make_asr(asr, asr_model, dict(asr_options or {}), device, dtype)
        steps = [make_augmentation(a, semitones, tempo, aug_backend) for a in aug_list]
        augment = None if not steps else steps[0] if len(steps) == 1 else Compose(steps)
        edit = SpokenEditDistance(threshold=threshold, unit=unit, min_distance=min_distance)
        filters = [EmptyTranscript(), edit] + ([WordScreen()] if screen else [])
        super().__init__(forward=forward, backward=backward, augment=augment, filters=filters,
                         fan_out=list(fan_out) if fan_out is not None else [len(voice_list), 4, 1],
                         keep=keep, keep_intermediate=keep_intermediate, dedupe=dedupe, top_up=top_up)
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
        self.recase = bool(recase)
        self.screen = bool(screen)
        self.device, self.dtype = device, dtype

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}

    def candidate_key(self, candidate: Sample) -> Any:
        """Two transcripts are the same output when their spoken forms are equal."""
        return spoken_form(str(candidate.get("text") or ""))

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        groups = super().process(samples, seeder)
        if not self.recase:
            return groups
        return [[c.replace(fields={**c.fields, "text": restore_case(parent["text"], c["text"])})
                 if c.kept and isinstance(c.get("text"), str) else c for c in group]
                for parent, group in zip(samples, groups)]
