"""Device, dtype and batch settings of the audio plugin's model backends (the kernel's policy).

``device="auto"`` is cuda, then mps, else cpu (:func:`crossaug.models.pick_device`);
``dtype="auto"`` is half precision for inference on a GPU (bfloat16 where supported, else
float16) and float32 on CPU (:func:`crossaug.models.pick_dtype`). Nothing here imports torch.

Example:
    >>> check_dtype("fp16"), check_batch_size(4)
    ('fp16', 4)
"""

from __future__ import annotations

from typing import Any

from crossaug import ConfigError
from crossaug.models import DTYPE_ALIASES, pick_device, pick_dtype  # noqa: F401  (re-exported for the backends)


def check_dtype(dtype: Any) -> str:
    """``dtype`` if the policy knows it: ``auto``, ``float32``/``fp32``, ``float16``/``fp16``, ``bfloat16``/``bf16``."""
    if dtype is None or dtype == "auto":
        return "auto"
    if str(dtype).lower().removeprefix("torch.") not in DTYPE_ALIASES:
        raise ConfigError(f"dtype must be auto, float32, float16 or bfloat16 (or fp32/fp16/bf16), got {dtype!r}")
    return str(dtype).removeprefix("torch.")


def check_batch_size(batch_size: Any) -> int:
    """A positive int, else :class:`ConfigError`."""
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def dtype_kwarg(transformers: Any, dtype: Any) -> dict[str, Any]:
    """``from_pretrained``'s dtype argument: ``dtype`` (transformers 4.56+), else ``torch_dtype``."""
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    return {"dtype": dtype} if (major, minor) >= (4, 56) else {"torch_dtype": dtype}


__all__ = ["check_dtype", "check_batch_size", "dtype_kwarg", "pick_device", "pick_dtype"]
