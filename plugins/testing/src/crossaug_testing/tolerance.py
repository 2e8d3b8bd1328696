"""How close two payloads of a neural model must be to count as the same output.

CPU and GPU kernels pick a different blocking for a different batch size or device,
so a model's outputs move in their last bits; a pixel may move by a grey level. These
are the documented tolerances of the reproducibility contract (``docs/concepts.md``):

* images: max ``|Δ|`` <= 2/255 per channel (two grey levels of an 8-bit image);
* audio: relative L2 distance ``||a - b|| / ||a||`` <= 1e-3, same sample rate and length;
* embeddings (float arrays): cosine similarity >= 0.999 per row;
* text: equal (greedy decoding flips only where the tolerance changes an argmax,
  which the contract suite counts and bounds);
* numbers a neural step records about its output in lineage (scores): ``|Δ| <= 1e-3 · max(1, |x|)``;
  everything else in its lineage (names, seeds, verdicts, strings) exact.

Each ``*_mismatch`` function returns ``None`` when the payloads are close enough and
otherwise a short reason.

Example:
    >>> import numpy as np
    >>> a = np.zeros((2, 2, 3), np.uint8)
    >>> image_mismatch(a, a + 2) is None, image_mismatch(a, a + 3)
    (True, 'max |Δ| 3/255 > 2/255')
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: images: largest allowed per-channel difference, in units of 1/255
IMAGE_MAX_ABS = 2 / 255
#: audio: largest allowed relative L2 distance
AUDIO_REL_L2 = 1e-3
#: embeddings: smallest allowed cosine similarity
EMBEDDING_MIN_COSINE = 0.999
#: floats a neural step records in lineage: relative tolerance (absolute below 1)
RECORD_REL = 1e-3


def _as_unit_floats(image: Any) -> np.ndarray:
    arr = np.asarray(image)
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    return arr.astype(np.float64)


def image_mismatch(a: Any, b: Any, max_abs: float = IMAGE_MAX_ABS) -> str | None:
    """``None`` if images ``a`` and ``b`` (PIL or uint8/[0, 1] arrays) differ by at most ``max_abs`` per channel."""
    if getattr(a, "mode", None) != getattr(b, "mode", None):
        return f"image modes differ ({getattr(a, 'mode', None)} vs {getattr(b, 'mode', None)})"
    x, y = _as_unit_floats(a), _as_unit_floats(b)
    if x.shape != y.shape:
        return f"image shapes differ {x.shape} vs {y.shape}"
    worst = float(np.max(np.abs(x - y))) if x.size else 0.0
    if worst > max_abs + 1e-9:
        return f"max |Δ| {worst * 255:.3g}/255 > {max_abs * 255:.3g}/255"
    return None


def audio_mismatch(a: Any, b: Any, rel_l2: float = AUDIO_REL_L2) -> str | None:
    """``None`` if waveforms ``a`` and ``b`` (:class:`crossaug.Audio` or arrays) are within ``rel_l2``."""
    ra, rb = getattr(a, "sample_rate", None), getattr(b, "sample_rate", None)
    if ra != rb:
        return f"sample rates differ ({ra} vs {rb})"
    x = np.asarray(getattr(a, "samples", a), dtype=np.float64)
    y = np.asarray(getattr(b, "samples", b), dtype=np.float64)
    if x.shape != y.shape:
        return f"waveform shapes differ {x.shape} vs {y.shape}"
    dist = float(np.linalg.norm(x - y))
    ref = float(np.linalg.norm(x))
    rel = dist / ref if ref > 0 else (0.0 if dist == 0 else float("inf"))
    if rel > rel_l2:
        return f"relative L2 {rel:.3g} > {rel_l2:g}"
    return None


def embedding_mismatch(a: Any, b: Any, min_cosine: float = EMBEDDING_MIN_COSINE) -> str | None:
    """``None`` if every row of float arrays ``a`` and ``b`` has cosine similarity >= ``min_cosine``."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        return f"embedding shapes differ {x.shape} vs {y.shape}"
    x2, y2 = x.reshape(-1, x.shape[-1] if x.ndim else 1), y.reshape(-1, y.shape[-1] if y.ndim else 1)
    nx, ny = np.linalg.norm(x2, axis=1), np.linalg.norm(y2, axis=1)
    both_zero = (nx == 0) & (ny == 0)
    cos = np.where(both_zero, 1.0, np.sum(x2 * y2, axis=1) / np.maximum(nx * ny, 1e-300))
    worst = float(cos.min()) if cos.size else 1.0
    if worst < min_cosine:
        return f"cosine {worst:.6f} < {min_cosine:g}"
    return None


def record_mismatch(a: Any, b: Any, rel: float = RECORD_REL, where: str = "") -> str | None:
    """``None`` if JSON-like ``a`` and ``b`` are equal except for floats within ``rel`` (see module doc)."""
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool) \
            or isinstance(b, float) and isinstance(a, (int, float)) and not isinstance(a, bool):
        if a == b or abs(a - b) <= rel * max(1.0, abs(a), abs(b)):
            return None
        return f"{where or 'value'}: {a!r} vs {b!r} beyond {rel:g}"
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{where or 'record'}: keys differ {sorted(set(a) ^ set(b))}"
        for k in a:
            why = record_mismatch(a[k], b[k], rel, f"{where}.{k}" if where else str(k))
            if why:
                return why
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{where or 'record'}: lengths differ ({len(a)} vs {len(b)})"
        for i, (x, y) in enumerate(zip(a, b)):
            why = record_mismatch(x, y, rel, f"{where}[{i}]")
            if why:
                return why
        return None
    return None if type(a) is type(b) and a == b else f"{where or 'value'}: {a!r} vs {b!r}"


def payload_mismatch(a: Any, b: Any) -> str | None:
    """Compare two payloads with the tolerance of their kind; exact for anything else.

    Text must be equal here (the caller decides how many greedy-decoding flips it bounds).
    """
    if isinstance(a, str) or isinstance(b, str):
        return None if a == b else "texts differ"
    if hasattr(a, "getbands") or hasattr(b, "getbands"):  # PIL images
        return image_mismatch(a, b)
    if hasattr(a, "sample_rate") or hasattr(b, "sample_rate"):
        return audio_mismatch(a, b)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.dtype == np.uint8 and b.dtype == np.uint8:
            return image_mismatch(a, b)
        if np.issubdtype(a.dtype, np.floating) and np.issubdtype(b.dtype, np.floating):
            return embedding_mismatch(a, b)
        return None if np.array_equal(a, b) else "arrays differ"
    return None if a == b else f"{a!r} != {b!r}"


__all__ = ["IMAGE_MAX_ABS", "AUDIO_REL_L2", "EMBEDDING_MIN_COSINE", "RECORD_REL", "image_mismatch",
           "audio_mismatch", "embedding_mismatch", "record_mismatch", "payload_mismatch"]
