"""The base of every registered step: parameters, serialisation, lineage.

Constructor arguments are plain serialisable values stored on attributes of the
same name (the scikit-learn convention), so :meth:`Step.get_params` and
:meth:`Step.to_dict` need no per-class code and ``from_dict`` rebuilds a step by
its entry-point name.

Example:
    >>> from crossaug.builtin.typo import Typo
    >>> Typo(rate=0.1, ops=["swap"]).to_dict()
    {'augmentation': 'text.typo', 'params': {'rate': 0.1, 'ops': ['swap'], 'field': 'text'}}
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

from ._json import DICT_TYPES, to_jsonable
from .models import runtime_of
from .sample import LineageStep, plain_step


@functools.cache
def distribution_of_module(module: str) -> tuple[str | None, str | None]:
    """(distribution name, version) of the plugin whose entry points live in ``module``'s package.

    Looks only at crossaug entry points (cheap), not at every installed distribution.
    """
    from importlib import metadata

    from .registry import GROUPS

    top = module.split(".", 1)[0]
    for group in GROUPS.values():
        for ep in metadata.entry_points(group=group):
            dist = getattr(ep, "dist", None)
            if dist is not None and ep.value.split(":", 1)[0].split(".", 1)[0] == top:
                return dist.metadata["Name"], dist.version
    return None, None


class Step:
    """A named, serialisable unit of work (transform, augmentation, filter, recipe).

    Subclasses set ``name`` (their entry-point name) and ``kind``.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "step"
    #: payloads come from a neural model: lineage records the runtime and the contract
    #: compares them within tolerance across batch sizes; ``None`` infers it (a ``device``
    #: argument, or a wrapped ``transform`` that is neural)
    neural: ClassVar[bool | None] = None

    @property
    def is_neural(self) -> bool:
        """Whether this step's payloads come from a neural model (see :attr:`neural`)."""
        if self.neural is not None:
            return self.neural
        inner = getattr(self, "transform", None)
        return hasattr(self, "device") or (isinstance(inner, Step) and inner.is_neural)

    # -- parameters -----------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in list(sig.parameters.values())[1:]
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    @classmethod
    def param_info(cls) -> list[dict[str, Any]]:
        """Name, default and annotation of each constructor parameter."""
        sig = inspect.signature(cls.__init__)
        out = []
        for p in list(sig.parameters.values())[1:]:
            if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
                continue
            out.append({
                "name": p.name,
                "default": None if p.default is p.empty else to_jsonable(p.default),
                "required": p.default is p.empty,
                "type": p.annotation if isinstance(p.annotation, str)
                else getattr(p.annotation, "__name__", str(p.annotation)),
            })
        return out

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments as stored on the instance."""
        return {n: getattr(self, n) for n in self.param_names()}

    def to_dict(self) -> dict[str, Any]:
        """``{kind: entry-point name, "params": {...}}``, nested steps included."""
        if not self.name:
            raise TypeError(f"{type(self).__name__} has no entry-point name; set `name`")
        return {self.kind: self.name, "params": to_jsonable(self.get_params())}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()  # type: ignore[union-attr]

    __hash__ = object.__hash__

    # -- lineage --------------------------------------------------------
    @property
    def model_id(self) -> str | None:
        """Model id or path for lineage; by default the step's ``model`` argument, if a string."""
        model = getattr(self, "model", None)
        return model if isinstance(model, str) else None

    @property
    def model_revision(self) -> str | None:
        """Model revision for lineage; by default the step's ``revision`` argument, if a string."""
        revision = getattr(self, "revision", None)
        return revision if isinstance(revision, str) else None

    def lineage_step(self, params: Mapping[str, Any] | None = None, **extra: Any) -> LineageStep:
        """A :class:`LineageStep` naming this step, its plugin and model (and runtime, if neural)."""
        # to_jsonable makes a new dict of a dict: no copy first
        return self._step_of(to_jsonable(params if type(params) is dict else dict(params or {})), extra)

    def _step_of(self, jsonable: dict[str, Any], extra: dict[str, Any]) -> LineageStep:
        """:meth:`lineage_step` of params already JSON-ready (kept as they are)."""
        plugin, version = distribution_of_module(type(self).__module__)
        if self.is_neural and "runtime" not in extra:
            extra["runtime"] = runtime_of(self)
        if not extra:  # every augmentation call: the fields set directly
            return plain_step(self.name or type(self).__name__, self.kind, plugin, version, jsonable,
                              self.model_id, self.model_revision)
        return LineageStep(
            name=self.name or type(self).__name__, kind=self.kind, plugin=plugin,
            version=version, params=jsonable, model=self.model_id, revision=self.model_revision, **extra,
        )

    def close(self) -> None:
        """Release models or processes held by the step (optional)."""


DICT_TYPES.append(Step)  # to_jsonable writes a step as its to_dict()


def uses_models(step: Any, depth: int = 3) -> bool:
    """Whether ``step`` or a step it holds (attributes, lists of steps) is neural."""
    if isinstance(step, Step) and step.is_neural:
        return True
    if depth == 0:
        return False
    for value in getattr(step, "__dict__", {}).values():
        items = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, Step) and uses_models(v, depth - 1) for v in items):
            return True
    return False


def model_settings(step: Any, depth: int = 3) -> dict[str, dict[str, Any]]:
    """Resolved settings of the model steps in ``step``, by step name, for ``run.json``.

    A step reports them through a ``generation_settings()`` method (text-to-image: steps,
    guidance, scheduler, model snapshot); its device and dtype are added as the device
    policy resolves them (see :func:`runtime_of`).
    """
    found: dict[str, dict[str, Any]] = {}

    def visit(node: Any, left: int) -> None:
        report = getattr(node, "generation_settings", None)
        if isinstance(node, Step) and callable(report) and node.name not in found:
            runtime = runtime_of(node)
            found[node.name] = {**report(), "device": runtime["device"], "dtype": runtime["dtype"]}
        if left == 0:
            return
        for value in getattr(node, "__dict__", {}).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Step):
                    visit(item, left - 1)

    visit(step, depth)
    return found


__all__ = ["Step", "uses_models", "model_settings", "distribution_of_module"]
