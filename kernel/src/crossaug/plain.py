"""Plain-data convenience API for scripts and notebooks: ``crossaug.augment``.

Ids are the inputs' positions and randomness is keyed as in :func:`crossaug.run`, so the
texts equal a run's manifest over the same list and seed.

Example:
    >>> import crossaug
    >>> outs = crossaug.augment(["a small cat", "a big dog"], "text.typo", n=3, seed=0)
    >>> [len(o) for o in outs], type(outs[0][0]).__name__
    ([3, 3], 'str')
"""

from __future__ import annotations

from typing import Any

from . import registry
from .augmentation import Augmentation
from .errors import ConfigError
from .payloads import from_payload, is_audio_pair, to_payload
from .recipe import Augment, Recipe
from .rng import Seeder
from .sample import Sample


def _build(recipe: Any, n: int | None, params: dict[str, Any] | None) -> Any:
    if isinstance(recipe, str):
        kind = "augmentation" if recipe in registry.names("augmentation") else "recipe"
        recipe = registry.create(kind, recipe, **(params or {}))
    elif params:
        raise ConfigError("params= applies to a recipe or augmentation given by name")
    if isinstance(recipe, Augmentation):
        return Augment(recipe, n=1 if n is None else n)
    if not isinstance(recipe, Recipe):
        raise ConfigError(f"expected a recipe or augmentation (name or object), got {type(recipe).__name__}")
    if n is not None:
        if "n" not in recipe.param_names():
            raise ConfigError(f"recipe {recipe.name!r} has no parameter 'n'; its parameters: {recipe.param_names()}")
        recipe = type(recipe)(**{**recipe.get_params(), "n": n})
    return recipe


def augment(data: Any, recipe: Any, *, n: int | None = None, seed: int = 0, sample_rate: int | None = None,
            field: str | None = None, params: dict[str, Any] | None = None, kept_only: bool = True,
            return_samples: bool = False) -> list[Any]:
    """Augment plain values with a recipe or augmentation; one list of outputs per input.

    Args:
        data: a list of inputs (``str``; PIL image or HWC array; audio array, ``(array, rate)`` or
            ``Audio``), or one input (then its list of outputs is returned).
        recipe: a recipe or augmentation: registered name or object.
        n: outputs per input (the recipe's ``n``; an augmentation runs ``n`` times, default 1).
        seed: root seed. sample_rate: of audio arrays. params: of a step given by name.
        field: the field the inputs fill (default: the recipe's first required field, else guessed).
        kept_only: drop outputs a filter rejected. return_samples: Samples (with lineage), not values.
    """
    single = not isinstance(data, (list, tuple)) or is_audio_pair(data)
    items = [data] if single else list(data)
    rec = _build(recipe, n, params)
    if not items:
        return []
    first = items[0]
    field = field or next(iter(rec.required_fields()), None) or (
        "text" if isinstance(first, str) else "audio" if sample_rate or is_audio_pair(first)
        or type(first).__name__ == "Audio" else "image")
    samples = [Sample(str(i), {field: to_payload(x, field, sample_rate, str(i))}) for i, x in enumerate(items)]
    if rec.requires_fit:
        rec.fit(samples)
    groups = rec.process(samples, Seeder(seed))
    out = [[o if return_samples else from_payload(o.fields.get(field), x) for o in g if o.kept or not kept_only]
           for g, x in zip(groups, items)]
    return out[0] if single else out


__all__ = ["augment"]
