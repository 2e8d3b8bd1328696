"""Augmentations: perturbations sampled from an explicit RNG and applied deterministically.

An augmentation implements two methods:

* ``sample_params(sample, rng) -> dict`` draws every random choice from ``rng``
  (and nothing else) and returns JSON-serialisable parameters;
* ``apply(sample, params) -> Sample`` is a pure function of its arguments.

:meth:`Augmentation.augment` chains them and records the parameters in the
sample's lineage, so :meth:`Augmentation.replay` reproduces any output.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> from crossaug.builtin.typo import Typo
    >>> aug = Typo(rate=0.3)
    >>> s = Sample("s1", {"text": "hello world"})
    >>> out = aug.augment(s, np.random.default_rng(0))
    >>> aug.replay(s, out.lineage[-1].params).fields == out.fields
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .errors import BadSample
from .sample import Sample, modality_of
from .step import Step
from .timing import timed


class Augmentation(Step):
    """Base class of augmentations.

    Subclasses set ``name`` and ``modalities`` (the modalities of the fields they
    read), store their constructor arguments on attributes of the same name, and
    implement :meth:`sample_params` and :meth:`apply`.
    """

    kind: ClassVar[str] = "augmentation"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    @property
    def fields(self) -> tuple[str, ...]:
        """Field names this augmentation reads (``field`` attribute when it has one)."""
        f = getattr(self, "field", None)
        if isinstance(f, str):
            return (f,)
        if isinstance(f, (list, tuple)):
            return tuple(f)
        return self.modalities

    def check(self, sample: Sample) -> None:
        """Raise :class:`BadSample` unless ``sample`` has valid input fields."""
        from .modality import get_modality

        if not isinstance(sample, Sample):
            raise BadSample(f"{self.name}: expected a Sample, got {type(sample).__name__}")
        for f in self.fields:
            if f not in sample.fields:
                raise BadSample(f"{self.name} needs field {f!r}; sample has {sorted(sample.fields)}",
                                sample_id=sample.id, field=f)
            get_modality(modality_of(f)).validate(sample.fields[f], sample_id=sample.id, field=f)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        """Draw the random parameters for ``sample`` from ``rng`` only."""
        return {}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """Apply recorded ``params`` to ``sample`` (deterministic)."""
        raise NotImplementedError

    def augment(self, sample: Sample, rng: np.random.Generator) -> Sample:
        """Sample parameters, apply them, and append a lineage step."""
        self.check(sample)
        with timed(self.name or type(self).__name__):
            params = self.sample_params(sample, rng)
            return self._apply_recorded(sample, params)

    def replay(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """Re-apply recorded ``params`` (from a manifest's lineage) to ``sample``."""
        self.check(sample)
        return self._apply_recorded(sample, params)

    def _apply_recorded(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = self.apply(sample, params)
        if not isinstance(out, Sample):
            raise TypeError(f"{type(self).__name__}.apply must return a Sample, got {type(out).__name__}")
        step = self.lineage_step(params)
        return out.replace(lineage=sample.lineage + (step,), parent_id=sample.root_id)

    def __call__(self, samples: Sequence[Sample], rngs: Sequence[np.random.Generator]) -> list[Sample]:
        """Batch form: one output per input, each with its own generator."""
        if len(samples) != len(rngs):
            raise ValueError(f"got {len(samples)} samples but {len(rngs)} generators")
        return [self.augment(s, r) for s, r in zip(samples, rngs)]


__all__ = ["Augmentation"]
