"""The plugin manager (pluggy): hook modules from ``crossaug.hooks`` entry points.

The kernel's own built-in hooks (:mod:`crossaug.default_hooks`, command-line layer)
arrive through the kernel's entry point like any plugin's, so this core module never
imports them. Loading is idempotent. Set ``CROSSAUG_DISABLE_AUTOLOAD=1`` to register
only the kernel's built-in hooks (third-party hook modules are then not imported).

Example:
    >>> pm = get_plugin_manager()
    >>> get_plugin_manager() is pm
    True
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import pluggy

from . import hookspecs
from .forking import renew_after_fork

log = logging.getLogger(__name__)

hookimpl = pluggy.HookimplMarker("crossaug")

_pm: pluggy.PluginManager | None = None
_lock = threading.Lock()
renew_after_fork(globals(), "_lock")
#: hook entry points that failed to load: name -> error text
load_failures: dict[str, str] = {}


def autoload_enabled() -> bool:
    return os.environ.get("CROSSAUG_DISABLE_AUTOLOAD", "").strip().lower() not in ("1", "true", "yes")


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created and loaded on first use."""
    global _pm
    if _pm is not None:
        return _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager("crossaug")
            pm.add_hookspecs(hookspecs)
            _load_entry_point_hooks(pm, kernel_only=not autoload_enabled())
            _pm = pm
    return _pm


def _load_entry_point_hooks(pm: pluggy.PluginManager, kernel_only: bool = False) -> None:
    from . import registry

    eps = [ep for ep in registry.entry_points("hook")
           if not pm.has_plugin(ep.name) and (not kernel_only or registry.distribution_of(ep) == registry.KERNEL_DIST)]
    for name, module in registry.load_many("hook", eps).items():
        try:  # a broken plugin (import error, bad hook signature) never takes the others down
            if isinstance(module, BaseException):
                raise module
            pm.register(module, name=name)
        except Exception as exc:
            load_failures[name] = f"{type(exc).__name__}: {exc}"
            log.warning("crossaug hook plugin %r failed to load: %s", name, exc)


def reset_plugin_manager() -> None:
    """Forget the plugin manager (tests use this after changing the environment)."""
    global _pm
    with _lock:
        _pm = None
        load_failures.clear()


def call_hook(name: str, **kwargs: Any) -> Any:
    """Call hook ``name`` and return its result (list, or single value for firstresult)."""
    return getattr(get_plugin_manager().hook, name)(**kwargs)


__all__ = ["hookimpl", "get_plugin_manager", "reset_plugin_manager", "call_hook", "autoload_enabled"]
