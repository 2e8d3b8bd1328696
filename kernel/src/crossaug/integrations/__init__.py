"""Integrations with training stacks: PyTorch datasets and Hugging Face ``datasets``.

Each integration lives in its own module and imports its library only there:
:mod:`crossaug.integrations.torch_dataset`, :mod:`crossaug.integrations.hf_datasets`.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..recipe import Recipe
from ..sample import Sample


def as_recipe(recipe: Recipe | str, params: dict[str, Any] | None = None) -> Recipe:
    """A :class:`~crossaug.Recipe` from an instance or a registered name (built with ``params``)."""
    if isinstance(recipe, str):
        from .. import registry

        recipe = registry.create("recipe", recipe, **(params or {}))
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"expected a Recipe or a recipe name, got {type(recipe).__name__}")
    return recipe


def row_to_sample(row: Any, index: int, required: tuple[str, ...] = (),
                  modalities: set[str] | None = None) -> Sample:
    """Decode one dataset row (a Sample, a dict of columns, or a string) like the runner does.

    Rows without an ``id`` get ``str(index)``, so results match ``crossaug.run`` over the same data.
    """
    from ..io.datasets import _known_modalities, _record, to_sample

    rec = _record(row, index, None, modalities if modalities is not None else _known_modalities(), None, None)
    return to_sample(rec, required)


__all__ = ["as_recipe", "row_to_sample"]
