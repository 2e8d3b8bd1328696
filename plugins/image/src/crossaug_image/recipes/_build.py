"""Building the steps of a recipe from entry-point names and parameter dicts.

Example:
    >>> build("augmentation", "text.typo", {"rate": 0.1}, field="text.caption").field
    'text.caption'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crossaug import ConfigError, create

UNSET: Any = object()


def build(kind: str, name: str, params: Mapping[str, Any] | None, **defaults: Any) -> Any:
    """``crossaug.create(kind, name, **defaults, **params)``; ``params`` win over ``defaults``.

    A default of :data:`UNSET` is left out (the step's own default applies).
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"expected the entry-point name of a {kind}, got {name!r}")
    if params is not None and not isinstance(params, Mapping):
        raise ConfigError(f"parameters of {kind} {name!r} must be a mapping, got {type(params).__name__}")
    merged = {k: v for k, v in defaults.items() if v is not UNSET}
    merged.update(params or {})
    return create(kind, name, **merged)


def or_unset(value: Any) -> Any:
    """``UNSET`` for ``None`` (so the built step keeps its default), else ``value``."""
    return UNSET if value is None else value


def or_auto(value: Any) -> Any:
    """``UNSET`` for ``"auto"`` (each model step resolves it by the kernel's policy), else ``value``."""
    return UNSET if value == "auto" else value


__all__ = ["build", "UNSET", "or_unset", "or_auto"]
