"""``audio.asr.pocketsphinx``: CMU PocketSphinx, the embedded offline ASR default.

The PyPI wheel ships the US-English acoustic model, language model and
dictionary, so it works with no download.

Example:
    >>> PocketSphinxASR().model_id
    'pocketsphinx:en-us'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, MissingDependency, MissingResource

from ..model_loading import LazyModel
from .base import ASR

HINT = "pip install pocketsphinx (the wheel ships the en-US model)"


class PocketSphinxASR(LazyModel, ASR):
    """PocketSphinx 5 (Huggins-Daines et al., 2006) decoding each clip as one utterance.

    Each clip is decoded as one utterance after resetting the feature front end
    and the cepstral mean to their initial state, so a transcript is what a fresh
    decoder gives and never depends on the clips decoded before it. Deterministic
    (the seed is recorded but unused). ``hmm``/``lm``/``dict``
    default to the models inside the wheel; pass paths to use others
    (``language`` then only labels the lineage).

    Args:
        hmm: acoustic model directory (default: the wheel's ``en-us``).
        lm: n-gram language model file (default: ``en-us.lm.bin``).
        dict: pronunciation dictionary (default: ``cmudict-en-us.dict``).
        language: label of the model set.
        beam: decoder beam width (PocketSphinx ``-beam``; smaller is slower and more accurate).
        maxhmmpf: most HMMs searched per frame (``-maxhmmpf``): 3000 halves decoding time
            with the same word error on TTS speech; ``-1`` for no limit.
        in_field: audio field read (default ``audio``).
        out_field: text field written (default ``text``).
    """

    name: ClassVar[str] = "audio.asr.pocketsphinx"
    sample_rate: int = 16000

    def __init__(self, hmm: str | None = None, lm: str | None = None, dict: str | None = None,
                 language: str = "en-us", beam: float = 1e-48, maxhmmpf: int = 3000, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not (isinstance(beam, float) and 0 < beam < 1):
            raise ConfigError(f"beam must be a float in (0, 1), got {beam!r}")
        self.hmm = hmm
        self.lm = lm
        self.dict = dict
        self.language = language
        self.beam = beam
        if not isinstance(maxhmmpf, int) or (maxhmmpf < 100 and maxhmmpf != -1):
            raise ConfigError(f"maxhmmpf must be an integer >= 100 or -1, got {maxhmmpf!r}")
        self.maxhmmpf = maxhmmpf
        self.in_field = in_field
        self.out_field = out_field

    @property
    def model_id(self) -> str:
        return self.hmm or f"pocketsphinx:{self.language}"

    def _paths(self) -> dict[str, str]:
        try:
            import pocketsphinx
        except ImportError as exc:
            raise MissingDependency(HINT, what="pocketsphinx") from exc
        base = Path(pocketsphinx.get_model_path())
        paths = {"hmm": self.hmm or str(base / "en-us" / "en-us"),
                 "lm": self.lm or str(base / "en-us" / "en-us.lm.bin"),
                 "dict": self.dict or str(base / "en-us" / "cmudict-en-us.dict")}
        for key, value in paths.items():
            if not Path(value).exists():
                raise MissingResource(f"pocketsphinx {key} {value}",
                                      "reinstall pocketsphinx or pass an existing path")
        return paths

    def _load_model(self) -> Any:
        from pocketsphinx import Decoder

        dec = Decoder(samprate=self.sample_rate, beam=self.beam, maxhmmpf=self.maxhmmpf,
                      loglevel="FATAL", **self._paths())
        self._model_cmn = dec.get_cmn()
        return dec

    def transcribe(self, waves: Sequence[np.ndarray], seeds: Sequence[int]) -> list[str]:
        dec = self._load()
        out = []
        with self._model_lock:
            for x in waves:
                pcm = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
                # the feature front end adapts across utterances; reset it and the CMN so each
                # clip is decoded exactly as by a fresh decoder, whatever was decoded before
                dec.reinit_feat()
                dec.set_cmn(self._model_cmn)
                dec.start_utt()
                dec.process_raw(pcm, full_utt=True)
                dec.end_utt()
                hyp = dec.hyp()
                out.append(hyp.hypstr if hyp is not None else "")
        return out
