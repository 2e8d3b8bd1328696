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
    >>> aug("hello world", 0) == aug("hello world", np.random.default_rng(0))  # raw payloads, like nlpaug
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .errors import BadSample, ConfigError
from .modality import field_modality
from .payloads import from_payload, to_payload
from .sample import Sample, restamp
from .step import Step
from .timing import _clock, add_timing


class Augmentation(Step):
    """Base class of augmentations.

    Subclasses set ``name`` and ``modalities`` (the modalities of the fields they
    read), store their constructor arguments on attributes of the same name, and
    implement :meth:`sample_params` and :meth:`apply`.
    """

    kind: ClassVar[str] = "augmentation"
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    #: :meth:`sample_params` returns a new dict of JSON values each call (str, int, float, bool,
    #: ``None``, and lists and str-keyed dicts of them; no tuple, no numpy value) that nothing else
    #: holds: the lineage step keeps it as it is instead of a converted copy (the testing kit's
    #: ``AugmentationContract.test_params_are_json`` holds a step that says so to it)
    json_params: ClassVar[bool] = False

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
        if not isinstance(sample, Sample):
            raise BadSample(f"{self.name}: expected a Sample, got {type(sample).__name__}")
        fields = sample.fields
        for f in self.fields:
            if f not in fields:
                raise BadSample(f"{self.name} needs field {f!r}; sample has {sorted(fields)}",
                                sample_id=sample.id, field=f)
            field_modality(f).validate(fields[f], sample_id=sample.id, field=f)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        """Draw the random parameters for ``sample`` from ``rng`` only."""
        return {}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """Apply recorded ``params`` to ``sample`` (deterministic)."""
        raise NotImplementedError

    def augment(self, sample: Sample, rng: np.random.Generator | int | None = None) -> Sample:
        """Sample parameters from ``rng`` (a Generator or an int seed), apply them, append a lineage step."""
        rng = as_generator(rng)
        self.check(sample)
        return self._augment_checked(sample, rng)

    def _augment_checked(self, sample: Sample, rng: np.random.Generator, id: str | None = None) -> Sample:
        """:meth:`augment` once :meth:`check` passed (a recipe that checked its inputs calls this);
        ``id`` names the output."""
        start = _clock()  # ``with timed(name)``, without the context manager: every output passes here
        try:
            params = self.sample_params(sample, rng)
            return self._apply_recorded(sample, params, id, owned=self.json_params)
        finally:
            add_timing(self.name or type(self).__name__, _clock() - start)

    def replay(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """Re-apply recorded ``params`` (from a manifest's lineage) to ``sample``."""
        self.check(sample)
        return self._apply_recorded(sample, params)

    def _apply_recorded(self, sample: Sample, params: Mapping[str, Any], id: str | None = None,
                        owned: bool = False) -> Sample:
        """``apply``, then the output restamped with its lineage step; ``owned``: ``params`` came
        from :meth:`sample_params` of a step that says :attr:`json_params` (kept as they are)."""
        out = self.apply(sample, params)
        if not isinstance(out, Sample):
            raise TypeError(f"{type(self).__name__}.apply must return a Sample, got {type(out).__name__}")
        if owned and type(params) is dict and type(self).lineage_step is Step.lineage_step:
            step = self._step_of(params, {})
        else:
            step = self.lineage_step(params)
        return restamp(out, sample.lineage + (step,), sample.root_id, id)

    def __call__(self, data: Any, rng: Any = None, *, sample_rate: int | None = None,
                 return_sample: bool = False) -> Any:
        """Augment a raw payload (returned in the same form; ``return_sample=True`` for the Sample with
        its lineage), a :class:`Sample`, or a batch (Samples and one generator each). ``rng``: a
        Generator, an int seed or ``None``; audio arrays need ``sample_rate``."""
        if isinstance(data, (list, tuple)) and data and all(isinstance(s, Sample) for s in data):
            rngs = list(rng) if isinstance(rng, (list, tuple)) else as_generator(rng).spawn(len(data))
            if len(data) != len(rngs):
                raise ValueError(f"got {len(data)} samples but {len(rngs)} generators")
            return [self.augment(s, r) for s, r in zip(data, rngs)]
        if isinstance(data, Sample):
            return self.augment(data, rng)
        if len(self.fields) != 1:
            raise ConfigError(f"{self.name} reads fields {list(self.fields)}; pass a Sample, not a bare payload")
        field = self.fields[0]
        out = self.augment(Sample("0", {field: to_payload(data, field, sample_rate, "0")}), rng)
        return out if return_sample else from_payload(out.fields[field], data)


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator (returned as is), an int seed, or ``None`` (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0):
        return np.random.default_rng(rng)
    raise ConfigError(f"expected a numpy Generator or a non-negative int seed, got {rng!r}")


__all__ = ["Augmentation", "as_generator"]
