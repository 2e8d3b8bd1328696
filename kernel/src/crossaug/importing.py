"""Import objects users name in parameters (``"package.module:function"``): hooks, classifiers.

Example:
    >>> import_callable("os.path:join")("a", "b")
    'a/b'
    >>> import_callable("os.path.join")("a", "b")
    'a/b'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .errors import ConfigError


def import_object(name: str) -> Any:
    """The object named ``"package.module:attr"`` (or ``"package.module.attr"``).

    Raises :class:`ConfigError` naming ``name`` when it cannot be imported.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"expected an importable name 'package.module:attr', got {name!r}")
    module, _, attr = name.partition(":") if ":" in name else name.rpartition(".")
    if not module or not attr:
        raise ConfigError(f"expected an importable name 'package.module:attr', got {name!r}")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import {name!r}: {exc}") from None
    return obj


def import_callable(name: str) -> Callable[..., Any]:
    """Like :func:`import_object`, and the object must be callable."""
    obj = import_object(name)
    if not callable(obj):
        raise ConfigError(f"{name!r} is not callable")
    return obj


__all__ = ["import_object", "import_callable"]
