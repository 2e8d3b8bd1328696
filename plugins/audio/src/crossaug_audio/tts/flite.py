"""``audio.tts.flite``: Debian ``flite`` voices, the embedded offline TTS default.

Example:
    >>> FliteTTS(voice="awb").to_dict()["params"]["voice"]
    'awb'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import Audio, ConfigError

from .base import TTS, check_max_chars, require_program
from .voice_program import speak_with_program

#: voices built into Debian's flite (``flite -lv``); kal is 8 kHz, the others 16 kHz
VOICES = ("kal", "kal16", "awb", "rms", "slt")
HINT = "apt-get install flite"


class FliteTTS(TTS):
    """CMU Flite speech synthesis (Black & Lenzo, 2001) through the ``flite`` program.

    Output is deterministic (the seed is recorded but unused). ``slt`` is the
    default: of the built-in voices it is the easiest for ASR.

    Args:
        voice: a built-in voice (``kal``, ``kal16``, ``awb``, ``rms``, ``slt``) or a
            path to a ``.flitevox`` file.
        max_chars: longest chunk passed to flite at once.
        program: the flite executable.
        in_field: text field read (default ``text``).
        out_field: audio field written (default ``audio``).
    """

    name: ClassVar[str] = "audio.tts.flite"

    def __init__(self, voice: str = "slt", max_chars: int = 600, program: str = "flite",
                 in_field: str | None = None, out_field: str | None = None) -> None:
        if voice not in VOICES and not str(voice).endswith(".flitevox"):
            raise ConfigError(f"unknown flite voice {voice!r}; built-in voices: {', '.join(VOICES)} "
                              "(or a path to a .flitevox file)")
        self.voice = voice
        self.max_chars = check_max_chars(max_chars)
        self.program = program
        self.in_field = in_field
        self.out_field = out_field

    @property
    def model_id(self) -> str:
        return f"flite:{self.voice}"

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        exe = require_program(self.program, HINT)
        return speak_with_program(texts, lambda txt, wav: [exe, "-voice", self.voice, "-f", str(txt), "-o", str(wav)],
                                  f"flite -voice {self.voice}", "crossaug-flite-")
