"""Hook specifications: what happens when. Implement them with ``@crossaug.hookimpl``.

Hooks are grouped by concern. A plugin module listed in the ``crossaug.hooks``
entry-point group defines functions named like these specs; every built-in
behaviour is registered the same way (``crossaug.default_hooks``).

Example:
    >>> import crossaug
    >>> class Loud:
    ...     @crossaug.hookimpl
    ...     def crossaug_coerce(self, value, modality):
    ...         return value.upper() if modality == "text" and isinstance(value, str) else None
    >>> pm = crossaug.get_plugin_manager()
    >>> _ = pm.register(Loud(), name="loud")
    >>> pm.hook.crossaug_coerce(value="hi", modality="text")
    'HI'
    >>> _ = pm.unregister(name="loud")
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("crossaug")


# -- configuration ----------------------------------------------------------
@hookspec(historic=True)
def crossaug_configure(config: dict[str, Any]) -> None:
    """Receive the run configuration (seed, output directory, options) once it is known.

    Historic: plugins registered later are called with the last configuration too.
    """


@hookspec
def crossaug_register_commands(cli: Any) -> None:
    """Add sub-commands to the ``crossaug`` command line (a ``typer.Typer`` app)."""


# -- coercion ---------------------------------------------------------------
@hookspec(firstresult=True)
def crossaug_coerce(value: Any, modality: str) -> Any:
    """Turn a foreign value into a payload of ``modality``; return ``None`` to pass.

    Called before the modality's own coercion, so plugins can accept new input
    types (a ``torch.Tensor`` image, a ``pydub`` segment).
    """


# -- lifecycle --------------------------------------------------------------
@hookspec
def crossaug_before_step(step: Any, samples: list[Any]) -> None:
    """Called before a recipe processes a batch of samples."""


@hookspec
def crossaug_after_step(step: Any, samples: list[Any], outputs: list[list[Any]]) -> None:
    """Called after a recipe produced ``outputs`` (one list per input) for a batch; they are for
    reading (the runner may have built their manifest lines already)."""


@hookspec
def crossaug_on_step_error(step: Any, sample: Any, error: BaseException) -> None:
    """Called when a sample is rejected because a step raised ``error``."""


# -- model resolution -------------------------------------------------------
@hookspec(firstresult=True)
def crossaug_resolve_model(kind: str, name: str, revision: str | None) -> str | None:
    """Return a local path (or loadable id) for model ``name`` of ``kind``, offline first.

    ``kind`` is a family such as ``transformers``, ``diffusers``,
    ``sentence-transformers``, ``spacy``, ``voice``. Return ``None`` to let the
    next implementation try; the built-in one checks local paths and the
    Hugging Face cache and raises :class:`crossaug.MissingResource` when nothing
    is found.
    """


# -- diagnostics and the demo -----------------------------------------------
@hookspec
def crossaug_doctor() -> list[Any]:
    """Return :class:`crossaug.doctor.Check` items for ``crossaug doctor``."""


@hookspec(firstresult=True)
def crossaug_demo() -> Any:
    """Return a :class:`crossaug.demo.DemoSpec` for ``crossaug demo`` (first plugin wins)."""
