"""Speaking text chunks with a voice program (``flite``, ``espeak-ng``): text file in, WAV file out.

Example:
    >>> import sys
    >>> speak_with_program(["hello"], lambda txt, wav: [sys.executable, "-c", "exit('no voice')"],
    ...                    "a mute voice", "crossaug-doctest-")
    Traceback (most recent call last):
    ...
    RuntimeError: a mute voice failed (exit 1): no voice
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from crossaug import Audio
from crossaug.modalities.wav import read_wav


def speak_with_program(texts: Sequence[str], argv: Callable[[Path, Path], list[str]], what: str,
                       tmp_prefix: str) -> list[Audio]:
    """One clip per text, each from one run of a program that reads a text file and writes a WAV file.

    Args:
        texts: the chunks, written UTF-8 to a temporary directory one file each.
        argv: the command line for a chunk, given its text file and the WAV file to write.
        what: the program as named in the error of a run that fails (non-zero exit or no
            WAV file): ``RuntimeError("<what> failed (exit N): <stderr>")``.
        tmp_prefix: prefix of the temporary directory.
    """
    out = []
    with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp:
        for i, text in enumerate(texts):
            txt, wav = Path(tmp) / f"{i}.txt", Path(tmp) / f"{i}.wav"
            txt.write_text(text, encoding="utf-8")
            proc = subprocess.run(argv(txt, wav), capture_output=True, timeout=300, check=False)
            if proc.returncode != 0 or not wav.exists():
                msg = proc.stderr.decode("utf-8", "replace").strip()
                raise RuntimeError(f"{what} failed (exit {proc.returncode}): {msg}")
            x, sr = read_wav(wav.read_bytes())
            out.append(Audio(x, sr))
    return out


__all__ = ["speak_with_program"]
