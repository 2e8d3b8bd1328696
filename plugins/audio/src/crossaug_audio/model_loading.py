"""Loading the audio plugin's model backends: lazily, once, with a lock around the model's calls.

A backend mixes in :class:`LazyModel` and implements :meth:`LazyModel._load_model`;
:meth:`LazyModel._load` returns the loaded object (loading it on first use) and sets
``_model_lock``, which the backend holds while it runs the model. Pickles (process
workers) leave the loaded objects out: each worker loads its own.
:func:`load_pretrained` puts a ``transformers`` model on the device and dtype of the
kernel's policy. Nothing here imports torch.

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

from ._devices import dtype_kwarg, pick_device, pick_dtype


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


def load_pretrained(step: Any, transformers: Any, model_class: Any, path: str) -> Any:
    """``model_class.from_pretrained(path)`` in eval mode on ``step.device`` and ``step.dtype``.

    ``auto`` resolves by the kernel's policy (:func:`crossaug.models.pick_device`,
    :func:`crossaug.models.pick_dtype`); the choice is recorded on the step as
    ``runtime_device`` / ``runtime_dtype`` for lineage.
    """
    device = pick_device(step.device)
    dtype = pick_dtype(step.dtype, device)
    net = model_class.from_pretrained(path, **dtype_kwarg(transformers, dtype))
    net = net.to(device).eval()
    step.runtime_device, step.runtime_dtype = device, str(dtype).removeprefix("torch.")
    return net


__all__ = ["LazyModel", "load_pretrained"]
