"""The few-shot evaluation protocol of the augmentation papers.

A labelled pool is split once into a training pool and a held-out test set
(stratified). For every shot count ``k`` and data seed ``s`` a class-balanced
training set of exactly ``k`` examples per class is drawn from the training
pool; the sets are nested (the ``k=1`` set is inside the ``k=2`` set of the same
data seed), as in EDA (Wei & Zou 2019) and Back-Modality (Sec. 4). Every method
is then given the same augmentation budget: exactly ``budget`` augmented samples
per original, so methods differ only in *what* they generate, never in how much.
Each training set is trained ``train_seeds`` times with seeds shared by all
methods, so results pair up for significance tests.

All draws come from :class:`crossaug.Seeder` keys, never from global state.

Example:
    >>> labels = ["a", "a", "a", "b", "b", "b"]
    >>> sorted(labels[i] for i in k_shot_indices(labels, 2, Seeder(0).rng("k-shot", 0)))
    ['a', 'a', 'b', 'b']
    >>> Protocol(shots=(1, 2), data_seeds=3, train_seeds=2).runs_per_method()
    12
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from crossaug.errors import ConfigError
from crossaug.rng import Seeder

#: Augmented samples per original in the Back-Modality and EDA experiments.
PAPER_BUDGET = 5


def _classes(labels: Sequence[Hashable]) -> OrderedDict[Hashable, list[int]]:
    """Indices of each class, classes in sorted order (stable across runs)."""
    by_class: dict[Hashable, list[int]] = {}
    for i, y in enumerate(labels):
        if y is None:
            raise ConfigError(f"example {i} has no label; every evaluation example needs one")
        by_class.setdefault(y, []).append(i)
    return OrderedDict((c, by_class[c]) for c in sorted(by_class, key=repr))


def class_orders(labels: Sequence[Hashable], rng: np.random.Generator) -> OrderedDict[Hashable, list[int]]:
    """A random order of each class's indices (the first ``k`` form the ``k``-shot set)."""
    return OrderedDict((c, [idx[j] for j in rng.permutation(len(idx))]) for c, idx in _classes(labels).items())


def k_shot_indices(labels: Sequence[Hashable], k: int, rng: np.random.Generator) -> list[int]:
    """Exactly ``k`` indices per class, drawn without replacement.

    Args:
        labels: one label per example.
        k: examples per class.
        rng: the generator to draw with.

    Raises:
        ConfigError: if a class has fewer than ``k`` examples.
    """
    return nested_k_shot(labels, [k], rng)[k]


def nested_k_shot(labels: Sequence[Hashable], shots: Sequence[int], rng: np.random.Generator) -> dict[int, list[int]]:
    """Class-balanced sets for several ``k`` from one draw, each inside the next larger one."""
    for k in shots:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ConfigError(f"shots must be positive integers, got {k!r}")
    orders = class_orders(labels, rng)
    small = {c: len(idx) for c, idx in orders.items() if len(idx) < max(shots)}
    if small:
        raise ConfigError(f"k={max(shots)} needs {max(shots)} examples per class; too few in "
                          + ", ".join(f"{c!r} ({n})" for c, n in small.items()))
    return {int(k): sorted(i for idx in orders.values() for i in idx[:k]) for k in shots}


def stratified_split(labels: Sequence[Hashable], test_per_class: int, rng: np.random.Generator,
                     max_pool_per_class: int | None = None) -> tuple[list[int], list[int]]:
    """Split indices into (training pool, test set) with ``test_per_class`` test examples per class.

    Classes with fewer than ``test_per_class + 1`` examples are an error.
    ``max_pool_per_class`` caps the training pool (k-shot sets only need a few).
    """
    pool: list[int] = []
    test: list[int] = []
    for c, idx in class_orders(labels, rng).items():
        if len(idx) <= test_per_class:
            raise ConfigError(f"class {c!r} has {len(idx)} examples; need more than test_per_class={test_per_class}")
        test.extend(idx[:test_per_class])
        rest = idx[test_per_class:]
        pool.extend(rest if max_pool_per_class is None else rest[:max_pool_per_class])
    return sorted(pool), sorted(test)


@dataclass(frozen=True)
class Protocol:
    """What to run: shot counts, seeds, budget and test-set size.

    Args:
        shots: examples per class in the training sets (papers: 1, 2, 5, 10).
        data_seeds: number of k-shot draws per ``k`` (S).
        train_seeds: trainings per training set (T), with seeds shared by every method.
        budget: augmented samples per original, the same for every method (papers: 5).
        test_per_class: held-out test examples per class.
        seed: root seed of every draw.
        affinity_per_class: test examples per class augmented to measure affinity
            (Gontijo-Lopes et al. 2020); 0 to skip.
        reference_per_class: clean training-pool examples per class for the reference
            model of affinity and label preservation.
    """

    shots: tuple[int, ...] = (1, 2, 5, 10)
    data_seeds: int = 5
    train_seeds: int = 1
    budget: int = PAPER_BUDGET
    test_per_class: int = 100
    seed: int = 0
    affinity_per_class: int = 20
    reference_per_class: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shots", tuple(int(k) for k in self.shots))
        if not self.shots or any(k < 1 for k in self.shots):
            raise ConfigError(f"shots must be positive integers, got {self.shots!r}")
        for name in ("data_seeds", "train_seeds", "budget", "test_per_class"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if self.affinity_per_class < 0:
            raise ConfigError(f"affinity_per_class must be >= 0, got {self.affinity_per_class!r}")

    @property
    def seeder(self) -> Seeder:
        return Seeder(self.seed).child("eval")

    def runs_per_method(self) -> int:
        return len(self.shots) * self.data_seeds * self.train_seeds

    def split(self, labels: Sequence[Hashable]) -> tuple[list[int], list[int]]:
        """(training pool, test set) indices; the pool keeps enough examples for the largest k."""
        return stratified_split(labels, self.test_per_class, self.seeder.rng("split"))

    def training_sets(self, labels: Sequence[Hashable], pool: Sequence[int]) -> dict[tuple[int, int], list[int]]:
        """``{(k, data_seed): indices into labels}``, nested in ``k`` for each data seed."""
        pool = list(pool)
        pool_labels = [labels[i] for i in pool]
        out: dict[tuple[int, int], list[int]] = {}
        for s in range(self.data_seeds):
            sets = nested_k_shot(pool_labels, self.shots, self.seeder.rng("k-shot", s))
            for k, idx in sets.items():
                out[(k, s)] = [pool[i] for i in idx]
        return out

    def train_seed(self, k: int, data_seed: int, t: int) -> int:
        """Seed of training ``t`` on the set ``(k, data_seed)``: the same for every method."""
        return self.seeder.integer_seed("train", k, data_seed, t) % (2**31 - 1)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shots"] = list(self.shots)
        return d


def choose_budget(kept: Sequence[Any], budget: int, rng: np.random.Generator) -> list[Any]:
    """Exactly ``budget`` items from ``kept``: a uniform subset if there are more, all of them
    then uniform repeats if there are fewer (the shortfall is reported by the caller).

    Example:
        >>> choose_budget(["a", "b", "c"], 2, Seeder(0).rng("b"))
        ['a', 'b']
        >>> len(choose_budget(["a"], 3, Seeder(0).rng("b")))
        3
    """
    kept = list(kept)
    if not kept:
        return []
    if len(kept) >= budget:
        chosen = sorted(int(i) for i in rng.choice(len(kept), size=budget, replace=False))
        return [kept[i] for i in chosen]
    extra = [kept[int(i)] for i in rng.integers(0, len(kept), size=budget - len(kept))]
    return kept + extra


__all__ = ["Protocol", "PAPER_BUDGET", "k_shot_indices", "nested_k_shot", "stratified_split", "choose_budget",
           "class_orders"]
