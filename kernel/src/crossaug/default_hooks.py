"""The kernel's built-in hook implementations, registered like any plugin's.

This module sits in the command-line layer (it imports :mod:`crossaug.doctor` and
:mod:`crossaug.demo`); the plugin manager finds it through the kernel's own
``crossaug.hooks`` entry point, never by importing it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .doctor import Check, check_module
from .hooks import hookimpl
from .models import find_in_hf_cache


@hookimpl(trylast=True)
def crossaug_resolve_model(kind: str, name: str, revision: str | None) -> str | None:
    """Local paths first, then the Hugging Face cache; ``None`` when not found."""
    p = Path(name).expanduser()
    if p.exists():
        return str(p)
    if kind in ("transformers", "diffusers", "sentence-transformers", "hf") and "/" in name:
        snap = find_in_hf_cache(name, revision)
        if snap is not None:
            return str(snap)
    return None


@hookimpl
def crossaug_doctor() -> list[Any]:
    from . import registry

    checks = [Check("python", sys.version_info >= (3, 10), sys.version.split()[0],
                    None if sys.version_info >= (3, 10) else "use Python 3.10 or newer")]
    for row in registry.list_plugins():
        if row.status == "failed":
            checks.append(Check(f"{row.kind} {row.name}", False, row.error or "", row.hint, row.plugin))
    checks.append(check_module("torch", "pip install torch (CPU: pip install torch==2.13.0)"))
    checks.append(check_module("datasets", "pip install datasets (for Hugging Face dataset inputs)"))
    checks.append(check_module("crossaug_eval", "pip install 'crossaug[eval]' (for crossaug eval and metrics)"))
    return checks


@hookimpl(trylast=True)
def crossaug_demo() -> Any:
    from .demo import kernel_demo

    return kernel_demo()
