"""``audio.tts.espeak``: ``espeak-ng`` formant synthesis (offline, many languages).

Example:
    >>> EspeakTTS(voice="en-gb", speed=150).to_dict()["params"]["speed"]
    150
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import Audio, ConfigError

from .base import TTS, check_max_chars, require_program
from .voice_program import speak_with_program

HINT = "apt-get install espeak-ng"


class EspeakTTS(TTS):
    """eSpeak NG speech synthesis through the ``espeak-ng`` program.

    Deterministic; many languages (``voice`` such as ``en-us``, ``de``, ``fr``).
    Voices other than English accept their own scripts.

    Args:
        voice: espeak-ng voice name (``espeak-ng --voices`` lists them).
        speed: words per minute (80–450).
        pitch: base pitch 0–99.
        max_chars: longest chunk passed at once.
        program: the espeak-ng executable.
        in_field: text field read (default ``text``).
        out_field: audio field written (default ``audio``).
    """

    name: ClassVar[str] = "audio.tts.espeak"

    def __init__(self, voice: str = "en-us", speed: int = 160, pitch: int = 50, max_chars: int = 600,
                 program: str = "espeak-ng", in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not isinstance(voice, str) or not voice or voice.startswith("-"):
            raise ConfigError(f"voice must be an espeak-ng voice name, got {voice!r}")
        if not isinstance(speed, int) or not 80 <= speed <= 450:
            raise ConfigError(f"speed must be an integer in 80..450 words per minute, got {speed!r}")
        if not isinstance(pitch, int) or not 0 <= pitch <= 99:
            raise ConfigError(f"pitch must be an integer in 0..99, got {pitch!r}")
        self.voice = voice
        self.speed = speed
        self.pitch = pitch
        self.max_chars = check_max_chars(max_chars)
        self.program = program
        self.in_field = in_field
        self.out_field = out_field

    @property
    def latin_only(self) -> bool:  # type: ignore[override]
        return self.voice.split("-")[0] in ("en", "")

    @property
    def model_id(self) -> str:
        return f"espeak-ng:{self.voice}"

    def synthesize(self, texts: Sequence[str], seed: int) -> list[Audio]:
        exe = require_program(self.program, HINT)
        return speak_with_program(
            texts, lambda txt, wav: [exe, "-v", self.voice, "-s", str(self.speed), "-p", str(self.pitch),
                                     "-w", str(wav), "-f", str(txt)],
            f"espeak-ng -v {self.voice}", "crossaug-espeak-")
