"""Import objects users name in parameters (``"package.module:function"``): hooks, classifiers.

A recipe file is data: a parameter naming a Python object outside the installed crossaug
packages runs code the file's author chose, so it is refused unless the user opted in
for the run (``--trust-code``, ``crossaug.run(trust_code=True)``, ``CROSSAUG_TRUST_CODE=1``
or :func:`trusting_code`), in the spirit of ``trust_remote_code``. Objects in the
``crossaug`` kernel and ``crossaug_*`` plugin packages (what entry points load anyway) are
always allowed, and so are callables passed directly from Python. See ``docs/security.md``.

Example:
    >>> import_callable("crossaug.importing:code_trusted")()
    False
    >>> with trusting_code():
    ...     import_callable("os.path:join")("a", "b")
    'a/b'
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from .errors import ConfigError

#: environment variable that opts a process (and the workers it starts) into importing named code
TRUST_ENV = "CROSSAUG_TRUST_CODE"


def code_trusted() -> bool:
    """Whether importing user-named code is allowed here (``CROSSAUG_TRUST_CODE=1``)."""
    return os.environ.get(TRUST_ENV, "").strip().lower() in ("1", "true", "yes")


@contextlib.contextmanager
def trusting_code(on: bool = True) -> Iterator[None]:
    """Allow (``on``) importing user-named code inside the block, for this process and workers it starts."""
    before = os.environ.get(TRUST_ENV)
    if on:
        os.environ[TRUST_ENV] = "1"
    try:
        yield
    finally:
        if on and before is None:
            os.environ.pop(TRUST_ENV, None)
        elif on:
            os.environ[TRUST_ENV] = before  # type: ignore[assignment]


def _shipped_with_crossaug(module: str) -> bool:
    top = module.split(".", 1)[0]
    return top == "crossaug" or top.startswith("crossaug_")


def import_object(name: str, *, param: str | None = None) -> Any:
    """The object named ``"package.module:attr"`` (or ``"package.module.attr"``).

    Args:
        name: the importable name.
        param: the parameter that named it, for the error message.

    Raises :class:`ConfigError` naming ``name`` when it cannot be imported, or when it
    lies outside the crossaug packages and the run did not opt in to trusting code.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"expected an importable name 'package.module:attr', got {name!r}")
    module, _, attr = name.partition(":") if ":" in name else name.rpartition(".")
    if not module or not attr:
        raise ConfigError(f"expected an importable name 'package.module:attr', got {name!r}")
    if not _shipped_with_crossaug(module) and not code_trusted():
        where = f"parameter {param!r}" if param else "a parameter"
        raise ConfigError(f"{where} names Python code {name!r}; recipe files and parameters are data, so "
                          f"running code they name needs an explicit opt-in: start the run with --trust-code "
                          f"(CLI), crossaug.run(..., trust_code=True) or {TRUST_ENV}=1 (see docs/security.md), "
                          f"or pass the callable itself from Python")
    try:
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import {name!r}: {exc}") from None
    return obj


def import_callable(name: str, *, param: str | None = None) -> Callable[..., Any]:
    """Like :func:`import_object`, and the object must be callable."""
    obj = import_object(name, param=param)
    if not callable(obj):
        raise ConfigError(f"{name!r} is not callable")
    return obj


__all__ = ["import_object", "import_callable", "code_trusted", "trusting_code", "TRUST_ENV"]
