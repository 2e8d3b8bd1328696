"""Composition of augmentations: :class:`Compose`, :class:`OneOf`, :class:`SomeOf`.

Each is an :class:`~crossaug.Augmentation` itself: its parameters nest the
parameters of the augmentations it chose, so a composed result replays exactly.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> from crossaug.builtin.typo import Typo
    >>> aug = OneOf([Typo(rate=0.2), Typo(rate=0.5)], weights=[1.0, 0.0])
    >>> params = aug.sample_params(Sample("s", {"text": "some text"}), np.random.default_rng(1))
    >>> params["index"]
    0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from .augmentation import Augmentation
from .errors import ConfigError
from .sample import Sample


def _check_steps(steps: Sequence[Augmentation], who: str) -> list[Augmentation]:
    steps = list(steps)
    if not steps:
        raise ConfigError(f"{who} needs at least one augmentation")
    for s in steps:
        if not isinstance(s, Augmentation):
            raise ConfigError(f"{who} takes augmentations, got {type(s).__name__}")
    return steps


class _Group(Augmentation):
    """Shared behaviour of augmentations that hold a list of ``steps``."""

    steps: list[Augmentation]
    modalities: ClassVar[tuple[str, ...]] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.steps:
            for f in s.fields:
                seen.setdefault(f, None)
        return tuple(seen)

    def check(self, sample: Sample) -> None:
        pass  # each member checks its own fields when applied

    def _run(self, sample: Sample, index: int, params: Mapping[str, Any]) -> Sample:
        step = self.steps[index]
        step.check(sample)
        return step.apply(sample, params)


class Compose(_Group):
    """Apply augmentations in sequence, step ``i`` with probability ``p[i]`` (Albumentations' per-transform ``p``).

    Each step draws its coin and parameters from its own stream: changing one step's ``p`` leaves
    the others' draws unchanged; the recorded ``applied`` list replays the result exactly.

    Args:
        steps: the augmentations, in order.
        p: probability that a step is applied: one number for every step, or one per step.

    Example:
        >>> import numpy as np
        >>> from crossaug import Sample
        >>> from crossaug.builtin.typo import Typo
        >>> aug = Compose([Typo(rate=0.2), Typo(rate=0.5)], p=[1.0, 0.0])
        >>> params = aug.sample_params(Sample("s", {"text": "some text"}), np.random.default_rng(0))
        >>> [e["index"] for e in params["applied"]]
        [0]
    """

    name: ClassVar[str] = "compose"

    def __init__(self, steps: Sequence[Augmentation], p: float | Sequence[float] = 1.0) -> None:
        self.steps = _check_steps(steps, "Compose")
        probs = [p] * len(self.steps) if isinstance(p, (int, float)) else list(p)
        if len(probs) != len(self.steps) or not all(isinstance(q, (int, float)) and 0.0 <= q <= 1.0 for q in probs):
            raise ConfigError(f"Compose p must be a number in [0, 1] or {len(self.steps)} of them, got {p!r}")
        self.p, self._probs = (p if isinstance(p, (int, float)) else probs), [float(q) for q in probs]

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        applied: list[dict[str, Any]] = []
        current = sample
        seeds = rng.integers(0, 2**63 - 1, size=len(self.steps))
        for i, (step, prob) in enumerate(zip(self.steps, self._probs)):
            own = np.random.default_rng(int(seeds[i]))  # the step's own stream: coin, then params
            if own.random() >= prob:
                continue
            step.check(current)
            params = step.sample_params(current, own)
            applied.append({"index": i, "name": step.name, "params": params})
            current = step.apply(current, params)
        return {"applied": applied}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        for entry in params["applied"]:
            sample = self._run(sample, int(entry["index"]), entry["params"])
        return sample


class OneOf(_Group):
    """Apply exactly one of ``steps``, chosen with probabilities ``weights``.

    ``weights`` play the part of the steps' ``p`` in Albumentations' ``OneOf``: they are
    normalised to sum to one (``[0.2, 0.6]`` picks the second step three times in four).

    Args:
        steps: the candidate augmentations.
        weights: relative choice weights, one per step (uniform when ``None``).
    """

    name: ClassVar[str] = "one-of"

    def __init__(self, steps: Sequence[Augmentation], weights: Sequence[float] | None = None) -> None:
        self.steps = _check_steps(steps, "OneOf")
        if weights is not None:
            weights = [float(w) for w in weights]
            if len(weights) != len(self.steps) or min(weights) < 0 or sum(weights) <= 0:
                raise ConfigError(f"OneOf weights must be {len(self.steps)} non-negative numbers "
                                  f"with a positive sum, got {weights}")
        self.weights = weights

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.steps))
        index = int(rng.choice(len(self.steps), p=w / w.sum()))
        step = self.steps[index]
        step.check(sample)
        return {"index": index, "name": step.name, "params": step.sample_params(sample, rng)}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        return self._run(sample, int(params["index"]), params["params"])


class SomeOf(_Group):
    """Apply ``n`` distinct augmentations drawn from ``steps`` (random order unless ``ordered``).

    Args:
        steps: the candidate augmentations.
        n: how many to apply, or ``[low, high]`` for a uniform count in that range.
        ordered: keep the listed order instead of shuffling.
    """

    name: ClassVar[str] = "some-of"

    def __init__(self, steps: Sequence[Augmentation], n: int | Sequence[int] = 2,
                 ordered: bool = False) -> None:
        self.steps = _check_steps(steps, "SomeOf")
        lo, hi = (n, n) if isinstance(n, int) else tuple(n)
        if not 0 <= lo <= hi <= len(self.steps):
            raise ConfigError(f"SomeOf n must lie in [0, {len(self.steps)}], got {n}")
        self.n = n if isinstance(n, int) else [int(lo), int(hi)]
        self.ordered = ordered

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        lo, hi = (self.n, self.n) if isinstance(self.n, int) else self.n
        count = int(rng.integers(lo, hi + 1))
        chosen = [int(i) for i in rng.choice(len(self.steps), size=count, replace=False)]
        if self.ordered:
            chosen.sort()
        applied = []
        current = sample
        for i in chosen:
            step = self.steps[i]
            step.check(current)
            params = step.sample_params(current, rng)
            applied.append({"index": i, "name": step.name, "params": params})
            current = step.apply(current, params)
        return {"applied": applied}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        for entry in params["applied"]:
            sample = self._run(sample, int(entry["index"]), entry["params"])
        return sample


__all__ = ["Compose", "OneOf", "SomeOf"]
