"""crossaug in training loops: PyTorch datasets and Hugging Face ``datasets``.

Each integration lives in its own module and imports its library only there:
:mod:`crossaug_integrations.torch_dataset` (``AugmentedDataset``, ``AugmentedIterableDataset``,
``GroupedOutputsDataset``), :mod:`crossaug_integrations.hf_datasets` (``augment_dataset``).
"""

from __future__ import annotations

from typing import Any

from crossaug import registry
from crossaug.errors import ConfigError
from crossaug.io.datasets import row_to_sample
from crossaug.recipe import Recipe


def as_recipe(recipe: Recipe | str, params: dict[str, Any] | None = None) -> Recipe:
    """A :class:`~crossaug.Recipe` from an instance or a registered name (built with ``params``)."""
    if isinstance(recipe, str):
        recipe = registry.create("recipe", recipe, **(params or {}))
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"expected a Recipe or a recipe name, got {type(recipe).__name__}")
    return recipe


__all__ = ["as_recipe", "row_to_sample"]
