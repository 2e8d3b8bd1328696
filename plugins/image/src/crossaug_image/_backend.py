"""Shared helpers of the image plugin's model backends: lazy imports, device and dtype choice.

Nothing here imports torch at module import time.

Importable names (``"module:function"``) are resolved with :func:`crossaug.importing.import_callable`.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any, ClassVar

from crossaug import ConfigError, MissingDependency
from crossaug.models import DTYPE_ALIASES, pick_device, pick_dtype  # noqa: F401  (the kernel's policy, re-exported)

from ._models import locate

log = logging.getLogger(__name__)

HINTS = {
    "torch": "pip install 'crossaug-image[transformers]' (CPU: pip install torch==2.13.0)",
    "transformers": "pip install 'crossaug-image[transformers]'",
    "diffusers": "pip install 'crossaug-image[diffusers]'",
}


def require(module: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependency` with the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingDependency(HINTS.get(top, f"pip install {top}"), what=top) from exc


DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "float16", "bfloat16")


def check_device(device: str) -> str:
    """Validate a device string (``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    if not isinstance(device, str) or device.split(":")[0] not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), got {device!r}")
    return device


def check_dtype(dtype: str) -> str:
    """Validate a dtype name (``auto``, ``float32``, ``float16``, ``bfloat16`` or an alias: ``fp16``...)."""
    if dtype != "auto" and DTYPE_ALIASES.get(str(dtype).lower()) is None:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)} (or fp32/fp16/bf16), got {dtype!r}")
    return dtype


def diffusers_dtype_kwarg(dtype: Any) -> dict[str, Any]:
    """``{"dtype": ...}`` for diffusers that take it (0.42+), else the older ``{"torch_dtype": ...}``."""
    try:
        from diffusers.utils import deprecation_utils
    except ImportError:  # pragma: no cover - older diffusers
        return {"torch_dtype": dtype}
    return {"dtype": dtype} if hasattr(deprecation_utils, "_resolve_dtype") else {"torch_dtype": dtype}


class LazyModel:
    """Mixin of backends whose model loads lazily into the attributes named by ``loaded``.

    Pickling (for process workers) drops the loaded objects and :meth:`close` releases them.
    """

    #: instance attributes holding loaded objects
    loaded: ClassVar[tuple[str, ...]] = ("_model", "_processor")

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for attr in self.loaded:
            state[attr] = None
        return state

    def close(self) -> None:
        for attr in self.loaded:
            setattr(self, attr, None)

    def _init_model(self, model: str, revision: str | None, device: str, dtype: str, allow_download: bool) -> None:
        """Set the model settings every backend shares, device and dtype checked."""
        self.model, self.revision = model, revision
        self.device, self.dtype = check_device(device), check_dtype(dtype)
        self.allow_download = bool(allow_download)

    def _load_prologue(self, library: str) -> tuple[Any, str, str, Any]:
        """Import torch and ``library``, locate the model for it, pick device and dtype.

        Returns ``(module, path, device, dtype)``.
        """
        require("torch")
        module = require(library)
        path = locate(library, self.model, self.revision, self.allow_download)
        device = pick_device(self.device)
        return module, path, device, pick_dtype(self.dtype, device)


def no_progress(pipe: Any) -> Any:
    """Silence a diffusers pipeline's progress bar (logging is the place for progress)."""
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)
    return pipe


__all__ = ["require", "LazyModel", "check_device", "check_dtype", "pick_device", "pick_dtype",
           "no_progress", "diffusers_dtype_kwarg", "DEVICES", "DTYPES"]
