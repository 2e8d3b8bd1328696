"""Does augmentation help? The papers' few-shot protocol, classifiers, metrics and statistics.

``crossaug_eval.evaluate(dataset, methods=[...])`` draws class-balanced k-shot
training sets (several k, S data seeds), augments each with every method under
the same budget, trains a classifier T times per set and reports mean accuracy
with 95% intervals and paired tests against no augmentation, plus affinity and
diversity (Gontijo-Lopes et al. 2020). Heavy dependencies (scikit-learn, torch,
sentence-transformers, scipy) are imported only when used: ``pip install 'crossaug[eval]'``.

Example:
    >>> from crossaug_eval import Protocol
    >>> Protocol(shots=(1, 5)).budget
    5
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Protocol": ".protocol",
    "evaluate": ".evaluation",
    "EvalResult": ".evaluation",
    "Classifier": ".classifiers",
    "get_classifier": ".classifiers",
    "summarise": ".stats",
    "mean_ci": ".stats",
    "quality_metrics": ".metrics.run",
    "TextEmbedder": ".embedding",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'crossaug_eval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = list(_LAZY)
