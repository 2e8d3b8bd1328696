"""Recipes: what ``crossaug run NAME`` executes.

A recipe maps a batch of input samples to, for each input, the list of samples it
produced: kept ones and rejected ones (``kept=False`` with a reason), so the
runner can record everything. Randomness comes only from the :class:`Seeder` it
is given, keyed by sample id, so output is independent of batching.

Example:
    >>> from crossaug import Sample, Seeder
    >>> from crossaug.builtin.typo import Typo
    >>> recipe = Augment(Typo(rate=0.2), n=2)
    >>> outs = recipe.process([Sample("s1", {"text": "hello world"})], Seeder(0))
    >>> [o.id for o in outs[0]]
    ['s1~0', 's1~1']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from .augmentation import Augmentation
from .errors import BadSample, ConfigError
from .filter import Filter
from .rng import Seeder
from .sample import Sample
from .step import Step


def apply_filters(filters: Sequence[Filter], candidates: list[Sample],
                  parents: list[Sample]) -> list[Sample]:
    """Run each filter in turn over ``candidates`` (each paired with its parent)."""
    for f in filters:
        candidates = f(candidates, parents)
    return candidates


def check_filters(filters: Sequence[Filter] | None, who: str) -> list[Filter]:
    filters = list(filters or [])
    for f in filters:
        if not isinstance(f, Filter):
            raise ConfigError(f"{who} filters must be Filter steps, got {type(f).__name__}")
    return filters


def check_output_ids(recipe_name: str, parents: Sequence[Sample], groups: Sequence[Sequence[Sample]]) -> None:
    """Raise :class:`ConfigError` if an output keeps its parent's id or repeats another output's id."""
    seen: set[str] = set()
    for parent, group in zip(parents, groups):
        for out in group:
            if out.id == parent.id:
                raise ConfigError(f"recipe {recipe_name!r} returned an output with its parent's id {out.id!r}; "
                                  f"give each output an id of its own (e.g. '{parent.id}~0')")
            if out.id in seen:
                raise ConfigError(f"recipe {recipe_name!r} returned output id {out.id!r} twice; "
                                  "output ids must be unique")
            seen.add(out.id)


class Recipe(Step):
    """Base class of recipes.

    Subclasses implement :meth:`process`. Recipes that need a pass over the whole
    dataset first (a vocabulary, a latent space) set ``requires_fit = True`` and
    implement :meth:`fit`; the runner calls it once before processing.
    """

    kind: ClassVar[str] = "recipe"
    requires_fit: ClassVar[bool] = False
    #: fields every input sample must carry
    input_fields: ClassVar[tuple[str, ...]] = ()

    def fit(self, samples: Iterable[Sample]) -> None:
        """Learn dataset-level state from the inputs (optional)."""

    def process(self, samples: Sequence[Sample], seeder: Seeder) -> list[list[Sample]]:
        """For each input, every sample produced from it (kept and rejected)."""
        raise NotImplementedError

    def required_fields(self) -> tuple[str, ...]:
        return tuple(getattr(self, "input_fields", ()) or ())

    def check(self, samples: Sequence[Sample]) -> None:
        """Raise :class:`BadSample` unless every input is a sample with valid required fields."""
        from .modality import field_modality

        for s in samples:
            if not isinstance(s, Sample):
                raise BadSample(f"{self.name}: expected a Sample, got {type(s).__name__}")
            for f in self.required_fields():
                if f not in s.fields:
                    raise BadSample(f"{self.name} needs field {f!r}; sample has {sorted(s.fields)}",
                                    sample_id=s.id, field=f)
                field_modality(f).validate(s.fields[f], sample_id=s.id, field=f)

    def __call__(self, samples: Sequence[Sample], seed: int = 0, *,
                 kept_only: bool = True) -> list[Sample]:
        """Convenience: process ``samples`` with ``seed`` and flatten the outputs."""
        if self.requires_fit:
            self.fit(samples)
        outs = [s for group in self.process(list(samples), Seeder(seed)) for s in group]
        return [s for s in outs if s.kept] if kept_only else outs


class Augment(Recipe):
    """Apply one augmentation ``n`` times to every input, then filters.

    Args:
        augmentation: the augmentation (use :class:`~crossaug.Compose` for several).
        n: outputs per input sample.
        filters: filters scoring each output against its input.
    """

    name: ClassVar[str] = "augment"

    def __init__(self, augmentation: Augmentation, n: int = 1,
                 filters: Sequence[Filter] | None = None) -> None:
        if not isinstance(augmentation, Augmentation):
            raise ConfigError(f"augment needs an Augmentation, got {type(augmentation).__name__}")
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"n must be a positive integer, got {n!r}")
        self.augmentation = augmentation
        self.n = n
        self.filters = check_filters(filters, "augment")

    def required_fields(self) -> tuple[str, ...]:
        return self.augmentation.fields

    def process(self, samples: Sequence[Sample], seeder: Seeder, *, checked: bool = False) -> list[list[Sample]]:
        """Each input's outputs. ``checked``: the caller validated the inputs' fields exactly as
        :meth:`check` would (the runner's decoding does), so they are not validated again."""
        if not checked:
            self.check(samples)
        one = self._one_input()
        return [one(sample, seeder) for sample in samples]

    def process_each(self, samples: Sequence[Sample], seeder: Seeder, *,
                     checked: bool = False) -> list[list[Sample] | BadSample]:
        """:meth:`process` with one outcome per input: its outputs, or the :class:`BadSample` it raised.

        An input is independent of the others (its own streams, checks and filters), so a refused
        input takes its error's place instead of stopping the batch and wasting the work done
        for the inputs before it. Other errors propagate.
        """
        one = self._one_input()
        out: list[list[Sample] | BadSample] = []
        for sample in samples:
            try:
                if not checked:
                    self.check([sample])
                out.append(one(sample, seeder))
            except BadSample as exc:
                out.append(exc)
        return out

    def _one_input(self) -> Any:
        """A function of (sample, seeder) giving one checked input's outputs."""
        aug, n, filters = self.augmentation, self.n, self.filters
        if (type(aug).augment is Augmentation.augment and type(aug).check is Augmentation.check
                and set(aug.fields) <= set(self.required_fields())):
            run = aug._augment_checked  # self.check validated exactly what aug.check would: no repeat

            def one(sample: Sample, seeder: Seeder) -> list[Sample]:
                sid = sample.id
                cands = [run(sample, seeder.rng("augment", sid, i), f"{sid}~{i}") for i in range(n)]
                return apply_filters(filters, cands, [sample] * len(cands)) if filters else cands
            return one

        def checked(sample: Sample, seeder: Seeder) -> list[Sample]:
            cands = [aug.augment(sample, seeder.rng("augment", sample.id, i)).replace(id=f"{sample.id}~{i}")
                     for i in range(n)]
            return apply_filters(filters, cands, [sample] * len(cands))
        return checked

    def describe_params(self) -> dict[str, Any]:
        return self.get_params()


__all__ = ["Recipe", "Augment", "apply_filters", "check_filters", "check_output_ids"]
