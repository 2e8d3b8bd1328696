"""crossaug: cross-modal data augmentation.

A small kernel (samples, steps, recipes, the runner, the plugin system) plus
plugin packages per modality. The core idea is Back-Modality,
``X_aug = G(H(F(X)))``: see :class:`BackModality`.

Importing ``crossaug`` is cheap: names below are imported on first use.

Example:
    >>> import crossaug
    >>> s = crossaug.Sample("s1", {"text": "a cat on a mat"})
    >>> recipe = crossaug.create("recipe", "augment", augmentation=crossaug.create("augmentation", "text.typo"), n=2)
    >>> len(recipe([s], seed=0))
    2
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import BadSample, ConfigError, CrossaugError, MissingDependency, MissingResource, PluginLoadError
from .hooks import get_plugin_manager, hookimpl
from .rng import Seeder
from .sample import LineageStep, Sample

__version__ = "0.1.0"

_LAZY = {
    "Step": ".step",
    "Augmentation": ".augmentation",
    "Transform": ".transform",
    "Produced": ".produced",
    "Filter": ".filter",
    "Recipe": ".recipe",
    "Augment": ".recipe",
    "BackModality": ".backmodality",
    "Compose": ".compose",
    "OneOf": ".compose",
    "SomeOf": ".compose",
    "Modality": ".modality",
    "get_modality": ".modality",
    "Audio": ".modalities.audio",
    "augment": ".plain",
    "run": ".runner.run",
    "RunResult": ".runner.run",
    "read_manifest": ".runner.manifest",
    "from_dict": ".serialization",
    "load_config": ".serialization",
    "resolve_model": ".models",
    "torch_generator": ".rng",
    "create": ".registry",
    "load": ".registry",
    "list_plugins": ".registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crossaug' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["BadSample", "ConfigError", "CrossaugError", "MissingDependency", "MissingResource",
           "PluginLoadError", "Sample", "LineageStep", "Seeder", "hookimpl", "get_plugin_manager",
           *_LAZY]
