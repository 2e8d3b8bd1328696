"""Minimal RIFF/WAVE reading and writing with numpy (PCM 8/16/24/32-bit and float32/64).

Keeps the kernel free of audio libraries; plugins may use soundfile or sox for
other formats.

Example:
    >>> import io, numpy as np
    >>> buf = io.BytesIO()
    >>> write_wav(buf, np.zeros(4, dtype=np.float32), 16000)
    >>> data, sr = read_wav(buf.getvalue())
    >>> data.shape, sr
    ((4,), 16000)
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

import numpy as np


class WavError(ValueError):
    """The bytes are not a WAV file this reader understands."""


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode WAV bytes to float32 samples (``(n,)`` mono or ``(n, channels)``) and rate."""
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    if data[:4] == b"RIFX":
        raise WavError("big-endian RIFX WAV is not supported")
    pos = 12
    fmt = None
    payload = None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            if len(body) < 16:
                raise WavError("truncated fmt chunk")
            fmt = struct.unpack("<HHIIHH", body[:16])
            if fmt[0] == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE
                fmt = (struct.unpack("<H", body[24:26])[0],) + fmt[1:]
        elif cid == b"data":
            payload = body
            if len(body) < size and size != 0xFFFFFFFF:
                payload = body[: len(body) - len(body) % max(1, (fmt[4] if fmt else 1))]
            break
        pos += 8 + size + (size & 1)
    if fmt is None:
        raise WavError("no fmt chunk")
    if payload is None:
        raise WavError("no data chunk")
    code, channels, rate, _, align, bits = fmt
    if channels < 1:
        raise WavError(f"{channels} channels")
    width = bits // 8
    usable = len(payload) - len(payload) % max(1, width * channels)
    raw = payload[:usable]
    if code == 3 and bits in (32, 64):
        x = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float32)
    elif code == 1 and bits == 8:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif code == 1 and bits == 16:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif code == 1 and bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        x = v.astype(np.float32) / float(1 << 23)
    elif code == 1 and bits == 32:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise WavError(f"unsupported WAV encoding (format {code}, {bits} bits)")
    if channels > 1:
        x = x.reshape(-1, channels)
    return np.ascontiguousarray(x), int(rate)


def write_wav(target: str | BinaryIO, samples: np.ndarray, rate: int, *, pcm16: bool = False) -> None:
    """Write float samples as 32-bit float WAV (or 16-bit PCM with ``pcm16=True``)."""
    x = np.asarray(samples, dtype=np.float32)
    channels = 1 if x.ndim == 1 else x.shape[1]
    if pcm16:
        body = (np.clip(x, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
        code, bits = 1, 16
    else:
        body = x.astype("<f4").tobytes()
        code, bits = 3, 32
    align = channels * bits // 8
    header = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, code, channels, int(rate), int(rate) * align, align, bits)
    header += b"data" + struct.pack("<I", len(body))
    if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
        with open(target, "wb") as fh:  # type: ignore[arg-type]
            fh.write(header + body)
    else:
        target.write(header + body)


def wav_bytes(samples: np.ndarray, rate: int, *, pcm16: bool = False) -> bytes:
    buf = io.BytesIO()
    write_wav(buf, samples, rate, pcm16=pcm16)
    return buf.getvalue()
