"""Recipes and steps to and from YAML/JSON, by entry-point name.

A step is written ``{KIND: NAME, "params": {...}}`` where KIND is ``transform``,
``augmentation``, ``filter`` or ``recipe``; parameters may nest further steps.
A recipe file adds run options::

    recipe: back-speech
    params: {voices: [slt, kal], threshold: 0.2}
    seed: 0
    run: {input: data.jsonl, output: out, workers: 2, batch_size: 8, on_error: skip}

``ops: [augmentations..., filters...]`` may stand instead of ``recipe`` (the ``augment``
recipe over their ``compose``, then the filters).

Example:
    >>> from crossaug.builtin.typo import Typo
    >>> step = from_dict(Typo(rate=0.2).to_dict())
    >>> step.rate
    0.2
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .step import Step

KINDS = ("transform", "augmentation", "filter", "recipe")
RUN_OPTIONS = {"workers", "batch_size", "on_error", "executor", "n", "limit", "cache_dir", "executor_options",
               "input", "output"}  # input/output: read by `crossaug run --config`, relative to the file


def _is_step_dict(value: Any) -> bool:
    return (isinstance(value, Mapping) and sum(k in value for k in KINDS) == 1
            and set(value) <= set(KINDS) | {"params"})


def _build(value: Any) -> Any:
    if _is_step_dict(value):
        return from_dict(value)
    if isinstance(value, list):
        return [_build(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _build(v) for k, v in value.items()}
    return value


def from_dict(data: Mapping[str, Any]) -> Step:
    """Rebuild a step (nested steps included) from :meth:`Step.to_dict` output."""
    from . import registry

    if not isinstance(data, Mapping):
        raise ConfigError(f"a step must be a mapping, got {type(data).__name__}")
    kinds = [k for k in KINDS if k in data]
    if len(kinds) != 1:
        raise ConfigError(f"a step needs exactly one of {', '.join(KINDS)} naming it, got keys {sorted(data)}")
    kind = kinds[0]
    extra = set(data) - {kind, "params"}
    if extra:
        raise ConfigError(f"unexpected key(s) {sorted(extra)} in {kind} {data[kind]!r}")
    params = data.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"params of {kind} {data[kind]!r} must be a mapping, got {type(params).__name__}")
    return registry.create(kind, str(data[kind]), **{k: _build(v) for k, v in params.items()})


@dataclass
class RecipeConfig:
    """A recipe plus the run options stored next to it in a config file."""

    recipe: Step
    seed: int = 0
    run: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = self.recipe.to_dict()
        return {"recipe": d["recipe"], "params": d["params"], "seed": self.seed, "run": dict(self.run)}


def parse_config(data: Any, source: str = "<config>") -> RecipeConfig:
    """Validate a loaded YAML/JSON document and build its recipe."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: top level must be a mapping with a 'recipe' key")
    unknown = set(data) - {"recipe", "ops", "params", "seed", "run"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {sorted(unknown)}; expected recipe or ops, params, seed, run")
    if "recipe" not in data and "ops" not in data:
        raise ConfigError(f"{source}: missing 'recipe' (a recipe name such as back-speech) or 'ops' (a list of steps)")
    if "recipe" in data and "ops" in data:
        raise ConfigError(f"{source}: give 'recipe' or 'ops', not both")
    if "ops" in data:  # Data-Juicer style: augmentations in order, then filters -> augment(compose(...), filters)
        data = {**data, "recipe": "augment", "params": _ops_params(data["ops"], data.get("params") or {}, source)}
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"{source}: seed must be a non-negative integer, got {seed!r}")
    run = dict(data.get("run") or {})
    bad = set(run) - RUN_OPTIONS
    if bad:
        raise ConfigError(f"{source}: unknown run option(s) {sorted(bad)}; expected {sorted(RUN_OPTIONS)}")
    try:
        recipe = from_dict({"recipe": data["recipe"], "params": data.get("params") or {}})
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return RecipeConfig(recipe, seed, run)


def _ops_params(ops: Any, params: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The ``augment`` recipe's parameters for an ``ops`` list: its augmentations composed, then its filters."""
    if not isinstance(ops, list) or not ops or not all(_is_step_dict(op) for op in ops):
        raise ConfigError(f"{source}: ops must be a non-empty list of steps ({{augmentation: NAME, params: ...}})")
    kinds = ["filter" if "filter" in op else "augmentation" if "augmentation" in op else "other" for op in ops]
    if "other" in kinds or kinds != sorted(kinds):  # "augmentation" < "filter": augmentations come first
        raise ConfigError(f"{source}: ops are augmentations, then filters (got {', '.join(kinds)})")
    augs = [op for op, k in zip(ops, kinds) if k == "augmentation"]
    if not augs:
        raise ConfigError(f"{source}: ops need at least one augmentation")
    composed = {"augmentation": "compose", "params": {"steps": augs, **dict(params.get("compose") or {})}}
    rest = {k: v for k, v in params.items() if k != "compose"}
    return {"augmentation": composed, **rest, "filters": [op for op, k in zip(ops, kinds) if k == "filter"]}


def load_config(path: str | Path) -> RecipeConfig:
    """Read a recipe file (``.yaml``, ``.yml`` or ``.json``)."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {p}: {exc.strerror}") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{p}: malformed {'JSON' if p.suffix == '.json' else 'YAML'}: {exc}") from None
    return parse_config(data, str(p))


def dump_config(config: RecipeConfig, fmt: str = "yaml") -> str:
    """Serialise a :class:`RecipeConfig` as YAML or JSON text."""
    import yaml

    d = config.to_dict()
    if fmt == "json":
        return json.dumps(d, indent=2, sort_keys=False) + "\n"
    return yaml.safe_dump(d, sort_keys=False)


__all__ = ["from_dict", "RecipeConfig", "parse_config", "load_config", "dump_config"]
