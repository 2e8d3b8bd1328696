"""Lazy access to torch for the StyleGAN2, paired-generation and LeMDA modules.

(Forked process workers run torch single-threaded: the kernel's executor sees to it.)
"""

from __future__ import annotations

from typing import Any

from crossaug import MissingDependency

INSTALL_HINT = "pip install 'crossaug-multimodal[torch]'"


def import_torch() -> Any:
    """Return the ``torch`` module or raise :class:`crossaug.MissingDependency`."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(INSTALL_HINT, what="torch") from exc
    return torch


__all__ = ["import_torch", "INSTALL_HINT"]
