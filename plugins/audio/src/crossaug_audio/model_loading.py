"""Loading the audio plugin's model backends: lazily, once, with a lock around the model's calls.

A backend mixes in :class:`LazyModel` and implements :meth:`LazyModel._load_model`;
:meth:`LazyModel._load` returns the loaded object (loading it on first use) and sets
``_model_lock``, which the backend holds while it runs the model. Pickles (process
workers) leave the loaded objects out: each worker loads its own.

Example:
    >>> class Counter(LazyModel):
    ...     loads = 0
    ...     def _load_model(self):
    ...         Counter.loads += 1
    ...         return "model"
    >>> c = Counter()
    >>> c._load(), c._load(), Counter.loads
    ('model', 'model', 1)
    >>> sorted(c.__getstate__())
    []
"""

from __future__ import annotations

import threading
from typing import Any


class LazyModel:
    """Mixin of backends whose model loads on first use into ``_model`` (and ``_model_lock``)."""

    def _load_model(self) -> Any:
        """Load and return the model (whatever :meth:`_load` hands to the backend)."""
        raise NotImplementedError

    def _load(self) -> Any:
        """The loaded model, loading it on first use."""
        loaded = getattr(self, "_model", None)
        if loaded is None:
            loaded = self._model = self._load_model()
            self._model_lock = threading.Lock()
        return loaded

    def __getstate__(self) -> dict[str, Any]:
        """Loaded models stay out of pickles (workers load their own)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_model")}


__all__ = ["LazyModel"]
