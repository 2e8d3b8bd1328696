"""``crossaug doctor``: which optional backends and offline resources are available.

Plugins contribute :class:`Check` items through the ``crossaug_doctor`` hook.

Example:
    >>> Check("sox", ok=False, detail="not on PATH", hint="apt-get install sox").status
    'missing'
"""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One line of the doctor report."""

    name: str
    ok: bool
    detail: str = ""
    hint: str | None = None
    plugin: str = "crossaug"

    @property
    def status(self) -> str:
        return "ok" if self.ok else "missing"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def check_program(name: str, hint: str, plugin: str = "crossaug") -> Check:
    """A check that ``name`` is on ``PATH``."""
    path = shutil.which(name)
    return Check(f"program {name}", path is not None, path or "not on PATH", None if path else hint, plugin)


def check_module(module: str, hint: str, plugin: str = "crossaug") -> Check:
    """A check that a Python module can be imported (without importing it)."""
    ok = importlib.util.find_spec(module) is not None
    return Check(f"python {module}", ok, "importable" if ok else "not installed", None if ok else hint, plugin)


def run_checks() -> list[Check]:
    """All checks from every plugin, sorted by plugin then name."""
    from .hooks import get_plugin_manager

    checks: list[Check] = []
    for group in get_plugin_manager().hook.crossaug_doctor():
        checks.extend(group or [])
    return sorted(checks, key=lambda c: (c.plugin, c.name))


__all__ = ["Check", "check_program", "check_module", "run_checks"]
