"""Lazy access to torch for the StyleGAN2, paired-generation and LeMDA modules.

Forked children and torch: once a process has run torch's intra-op thread pool, a
child made by ``fork`` (the runner's process executor on Linux, after a recipe's
``fit`` ran in the parent) hangs on its first parallel op. On first import we
register an at-fork handler that makes forked children single-threaded in torch,
which avoids the hang (process workers are parallel already).
"""

from __future__ import annotations

import os
from typing import Any

from crossaug import MissingDependency

INSTALL_HINT = "pip install 'crossaug-multimodal[torch]'"


_FORK_HANDLER = False


def _single_threaded_child() -> None:  # pragma: no cover - runs in forked children
    import torch

    torch.set_num_threads(1)


def import_torch() -> Any:
    """Return the ``torch`` module or raise :class:`crossaug.MissingDependency`."""
    global _FORK_HANDLER
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(INSTALL_HINT, what="torch") from exc
    if not _FORK_HANDLER and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_single_threaded_child)
        _FORK_HANDLER = True
    return torch


__all__ = ["import_torch", "INSTALL_HINT"]
