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

import numpy as np

from .errors import ConfigError
from .rng import Seeder
from .sample import Sample, modality_of


def _audio_pair(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (int, np.integer))


def to_payload(value: Any, field: str, sample_rate: int | None, sample_id: str) -> Any:
    """Coerce a plain value into ``field``'s modality (an array with ``sample_rate`` becomes audio)."""
    from .modality import get_modality

    if sample_rate is not None and isinstance(value, np.ndarray):
        value = (value, int(sample_rate))
    return get_modality(modality_of(field)).coerce(value, sample_id=sample_id, field=field)


def from_payload(payload: Any, like: Any) -> Any:
    """``payload`` in the form of the input ``like`` (arrays stay arrays, ``(array, rate)`` pairs stay pairs)."""
    from .modalities.audio import Audio

    if isinstance(payload, Audio) and _audio_pair(like):
        return payload.samples, payload.sample_rate
    if isinstance(like, np.ndarray):
        return payload.samples if isinstance(payload, Audio) else np.asarray(payload)
    return payload


def _build(recipe: Any, n: int | None, params: dict[str, Any] | None) -> Any:
    from . import registry
    from .augmentation import Augmentation
    from .recipe import Augment, Recipe

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
    single = not isinstance(data, (list, tuple)) or _audio_pair(data)
    items = [data] if single else list(data)
    rec = _build(recipe, n, params)
    if not items:
        return []
    first = items[0]
    field = field or next(iter(rec.required_fields()), None) or (
        "text" if isinstance(first, str) else "audio" if sample_rate or _audio_pair(first)
        or type(first).__name__ == "Audio" else "image")
    samples = [Sample(str(i), {field: to_payload(x, field, sample_rate, str(i))}) for i, x in enumerate(items)]
    if rec.requires_fit:
        rec.fit(samples)
    groups = rec.process(samples, Seeder(seed))
    out = [[o if return_samples else from_payload(o.fields.get(field), x) for o in g if o.kept or not kept_only]
           for g, x in zip(groups, items)]
    return out[0] if single else out


__all__ = ["augment", "to_payload", "from_payload"]
