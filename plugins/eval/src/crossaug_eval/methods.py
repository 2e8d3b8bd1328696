"""Augmentation methods under comparison, each producing exactly ``budget`` outputs per original.

A method is built from a registered recipe name (``eda``, ``back-speech``), a
registered augmentation name (run ``budget`` times per input), a peer
(``nlpaug.random-swap``), ``none`` (no augmentation), or a
:class:`~crossaug.Recipe` / :class:`~crossaug.Augmentation` object.

Recipes run as in ``crossaug run`` with the evaluation seed; when filters leave
an input with fewer than ``budget`` kept outputs, the recipe is run again under
new seed keys (up to ``max_rounds``), then kept outputs are repeated, and the
shortfall is recorded. Outputs are cached per input id: by the kernel's
contract a recipe's output for a sample depends only on that sample and the
seed, so nested k-shot sets are augmented once.

Example:
    >>> from crossaug import Sample
    >>> from crossaug.builtin.typo import Typo
    >>> m = make_method(Typo(rate=0.1))
    >>> out = m.augment([Sample("s1", {"text": "a small test"}, label=0)], budget=3, seed=0)
    >>> len(out["s1"]), {o.label for o in out["s1"]}
    (3, {0})
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from crossaug import registry
from crossaug.augmentation import Augmentation
from crossaug.errors import ConfigError, CrossaugError
from crossaug.recipe import Augment, Recipe
from crossaug.rng import Seeder
from crossaug.sample import Sample

from .protocol import choose_budget

log = logging.getLogger(__name__)

NONE = "none"


class Method:
    """One compared method. ``augment`` returns ``{sample id: [augmented samples]}``."""

    def __init__(self, name: str, recipe: Recipe | None, max_rounds: int = 4) -> None:
        self.name = name
        self.recipe = recipe
        self.max_rounds = max_rounds
        self._kept: dict[str, list[Sample]] = {}
        self._all: dict[str, list[Sample]] = {}
        self._errors: dict[str, str] = {}
        self._fit_on: tuple[str, ...] | None = None
        self.shortfall = 0

    def _run(self, samples: list[Sample], seeder: Seeder) -> list[list[Sample] | str]:
        assert self.recipe is not None
        try:
            return list(self.recipe.process(samples, seeder))
        except CrossaugError:
            if len(samples) == 1:
                raise
        out: list[list[Sample] | str] = []
        for s in samples:  # isolate failing inputs
            try:
                out.append(self.recipe.process([s], seeder)[0])
            except CrossaugError as exc:
                out.append(f"{type(exc).__name__}: {exc}")
        return out

    def _fill(self, samples: list[Sample], budget: int, seed: int) -> None:
        assert self.recipe is not None
        if self.recipe.requires_fit:
            key = tuple(s.id for s in samples)
            if key != self._fit_on:  # dataset-level state is learnt from this training set only
                self.recipe.fit(samples)
                self._fit_on = key
                self._kept.clear()
                self._all.clear()
        need = [s for s in samples if s.id not in self._kept]
        for s in need:
            self._kept[s.id], self._all[s.id] = [], []
        for r in range(self.max_rounds):
            todo = [s for s in need if len(self._kept[s.id]) < budget and s.id not in self._errors]
            if not todo:
                break
            seeder = Seeder(seed) if r == 0 else Seeder(seed).child("eval-round", r)
            try:
                groups = self._run(todo, seeder)
            except CrossaugError as exc:
                groups = [f"{type(exc).__name__}: {exc}"]
            for s, g in zip(todo, groups):
                if r and not isinstance(g, str):  # ids unique across rounds
                    g = [c.replace(id=f"{c.id}@r{r}") for c in g]
                if isinstance(g, str):
                    self._errors[s.id] = g
                    log.warning("%s failed on %s: %s", self.name, s.id, g)
                    continue
                self._all[s.id].extend(g)
                self._kept[s.id].extend(c for c in g if c.kept)

    def augment(self, samples: Sequence[Sample], budget: int, seed: int) -> dict[str, list[Sample]]:
        """Exactly ``budget`` kept augmentations per sample (fewer only if a sample got none)."""
        samples = list(samples)
        if self.recipe is None:
            return {s.id: [] for s in samples}
        self._fill(samples, budget, seed)
        out = {}
        for s in samples:
            kept = self._kept.get(s.id, [])
            if len(kept) < budget:
                self.shortfall += 1
            chosen = choose_budget(kept, budget, Seeder(seed).rng("eval-budget", self.name, s.id))
            out[s.id] = [c.replace(label=s.label) if c.label is None else c for c in chosen]
        return out

    def candidates(self, sample_id: str) -> list[Sample]:
        """Every candidate (kept and rejected) produced so far for an input."""
        return list(self._all.get(sample_id, []))

    def error(self, sample_id: str) -> str | None:
        return self._errors.get(sample_id)


def _budget_params(cls: Any, params: dict[str, Any], budget: int) -> dict[str, Any]:
    params = dict(params)
    names = cls.param_names() if hasattr(cls, "param_names") else []
    for key in ("n", "num_aug"):  # outputs-per-input parameter of Augment-like recipes (EDA: num_aug)
        if key in names and key not in params:
            params[key] = budget
            break
    return params


def make_method(spec: Any, name: str | None = None, params: Mapping[str, Any] | None = None,
                budget: int = 5, field: str | None = None) -> Method:
    """Build a :class:`Method` from a name or object (see the module docstring).

    Raises :class:`~crossaug.ConfigError` for unknown names and the plugin's
    :class:`~crossaug.PluginLoadError`/:class:`~crossaug.MissingDependency` when
    it cannot load.
    """
    params = dict(params or {})
    if spec is None or spec == NONE:
        return Method(NONE, None)
    if isinstance(spec, Recipe):
        return Method(name or spec.name or type(spec).__name__, spec)
    if isinstance(spec, Augmentation):
        return Method(name or spec.name or type(spec).__name__, Augment(spec, n=budget))
    if isinstance(spec, Method):
        return spec
    if not isinstance(spec, str):
        raise ConfigError(f"cannot use {type(spec).__name__} as an augmentation method")
    from .peers import PEERS, PeerAugmentation

    if spec in PEERS:
        if field is not None:
            params.setdefault("field", field)
        return Method(name or spec, Augment(PeerAugmentation(spec, **params), n=budget))
    if spec in registry.names("recipe"):
        cls = registry.load("recipe", spec)
        return Method(name or spec, registry.create("recipe", spec, **_budget_params(cls, params, budget)))
    if spec in registry.names("augmentation"):
        if field is not None and "field" in registry.load("augmentation", spec).param_names():
            params.setdefault("field", field)
        return Method(name or spec, Augment(registry.create("augmentation", spec, **params), n=budget))
    raise ConfigError(f"unknown method {spec!r}: not a registered recipe or augmentation, not a peer "
                      f"({', '.join(sorted(PEERS))}) and not 'none' (see `crossaug list`)")


__all__ = ["Method", "make_method", "NONE"]
