"""Module locks that a forked process gets back unlocked.

A process forked while one of its threads holds a lock inherits the lock held, by a thread that
does not exist in the child: the child's first ``with lock:`` waits forever. The runner forks its
process workers from the calling process, which may have threads of its own (a service, a
notebook, a script running augmentations in a thread pool). A module that guards shared state with
a module-level lock registers it here, and every forked child starts with a new, unlocked one
(a dict of locks starts empty). The module must read the lock through its global name at each use
(``with _lock:``), not keep a reference to the old one.

Example:
    >>> import threading
    >>> _lock, _locks_by_key = threading.Lock(), {}
    >>> renew_after_fork(globals(), "_lock", "_locks_by_key")
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping
from typing import Any

_RLOCK = type(threading.RLock())


def _fresh(old: Any) -> Any:
    if isinstance(old, dict):
        return {}
    if isinstance(old, _RLOCK):
        return threading.RLock()
    return threading.Lock()


def renew_after_fork(namespace: MutableMapping[str, Any], *names: str) -> None:
    """In each process forked from now on, replace ``namespace[name]`` (a module's ``globals()``)
    by a new lock of the same kind, or by an empty dict for a dict of locks, for each of ``names``.

    Raises:
        KeyError: a name is not in ``namespace`` (checked now, not in the child).
    """
    missing = [n for n in names if n not in namespace]
    if missing:
        raise KeyError(f"no {missing} in the namespace to renew after a fork")
    if not hasattr(os, "register_at_fork"):  # no fork on this platform
        return

    def renew() -> None:
        for name in names:
            namespace[name] = _fresh(namespace[name])

    os.register_at_fork(after_in_child=renew)


__all__ = ["renew_after_fork"]
