"""Hook implementations of the image plugin (``crossaug doctor`` checks)."""

from __future__ import annotations

from typing import Any

import crossaug
from crossaug.doctor import Check, check_module

PLUGIN = "crossaug-image"


@crossaug.hookimpl
def crossaug_doctor() -> list[Any]:
    checks = [
        check_module("torch", "pip install 'crossaug-image[transformers]' (CPU: torch==2.13.0)", PLUGIN),
        check_module("transformers", "pip install 'crossaug-image[transformers]' (captioning, CLIP score)", PLUGIN),
        check_module("diffusers", "pip install 'crossaug-image[diffusers]' (text-to-image, Diff-II)", PLUGIN),
    ]
    checks.append(Check("image models", True,
                        "no captioning/text-to-image/CLIP weights ship with crossaug; pass a hub id "
                        "(cached or downloadable) or a local directory", None, PLUGIN))
    return checks
