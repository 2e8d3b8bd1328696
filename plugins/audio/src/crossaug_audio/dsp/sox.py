"""Run Debian ``sox`` effects on in-memory waveforms: in-process through libsox, else the ``sox`` program.

Chains of :data:`~crossaug_audio.dsp.libsox.IN_PROCESS` effects run inside the
process (:mod:`crossaug_audio.dsp.libsox`, identical output, no process per
clip); others, or all with ``CROSSAUG_SOX=program``, pipe WAV bytes through the
``sox`` program.

sox's time-domain ``pitch`` and ``tempo`` (WSOLA) keep speech intelligible to
ASR far better than phase vocoders. Dithering is disabled (``-D``) and float
WAV is used both ways, so output is a deterministic function of the input.

Example:
    >>> import numpy as np, shutil
    >>> x = np.sin(np.arange(1600) / 5).astype(np.float32)
    >>> y, sr = sox_effects(x, 16000, ["vol", "0.5"]) if shutil.which("sox") else (x * 0.5, 16000)
    >>> bool(np.allclose(y, x * 0.5, atol=1e-6)), sr
    (True, 16000)
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

import numpy as np
from crossaug import MissingDependency
from crossaug.modalities.wav import WavError, read_wav, wav_bytes

from . import libsox

SOX_HINT = "apt-get install sox libsox-fmt-all (or pick backend='librosa')"


def sox_path(program: str = "sox") -> str:
    """Absolute path of the sox program or :class:`MissingDependency`."""
    path = shutil.which(program)
    if path is None:
        raise MissingDependency(SOX_HINT, what=f"the {program!r} program")
    return path


def sox_effects(x: np.ndarray, rate: int, effects: Sequence[str], *, program: str = "sox",
                timeout: float = 120.0) -> tuple[np.ndarray, int]:
    """Apply a sox effects chain to ``x`` and return ``(samples, rate)``.

    Args:
        x: ``(n,)`` or ``(n, channels)`` float samples.
        rate: sample rate in Hz.
        effects: sox effect arguments, e.g. ``["pitch", "150", "tempo", "-s", "1.1"]``.
        program: the sox executable.
        timeout: seconds before the call is abandoned.
    """
    if program == "sox" and libsox.supports(effects):
        return libsox.run_chain(x, int(rate), [str(e) for e in effects]), int(rate)
    exe = sox_path(program)
    data = wav_bytes(np.asarray(x, dtype=np.float32), int(rate))
    cmd = [exe, "-D", "-V1", "-q", "-t", "wav", "-", "-t", "wav", "-e", "floating-point", "-b", "32", "-",
           *[str(e) for e in effects]]
    proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"sox {' '.join(map(str, effects))} failed (exit {proc.returncode}): {msg}")
    try:
        y, sr = read_wav(proc.stdout)
    except WavError as exc:  # pragma: no cover - sox always writes WAV here
        raise RuntimeError(f"sox wrote unreadable output: {exc}") from None
    if y.ndim == 2 and np.asarray(x).ndim == 1:
        y = y[:, 0]
    return np.ascontiguousarray(y, dtype=np.float32), sr
