"""Lazy imports of optional stacks, each failing with the command that installs it."""

from __future__ import annotations

import importlib
from typing import Any

from crossaug import MissingDependency
from crossaug.models import pick_device as torch_device  # noqa: F401  (re-exported for the backends)

EXTRA_OF = {
    "torch": "transformers", "transformers": "transformers", "espnet": "espnet",
    "espnet2": "espnet", "espnet_model_zoo": "espnet", "faster_whisper": "whisper", "piper": "piper",
    "librosa": "librosa",
}


def optional_import(module: str, extra: str | None = None) -> Any:
    """Import ``module`` or raise :class:`MissingDependency` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = extra or EXTRA_OF.get(module.split(".")[0], "transformers")
        raise MissingDependency(f"pip install 'crossaug-audio[{extra}]'",
                                what=f"{module} ({exc})") from exc
