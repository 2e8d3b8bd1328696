"""Label preservation: does a reference classifier still see the parent's class?

Example:
    >>> label_preservation_rate(["a", "a", "b"], ["a", "b", "b"])
    0.6666666666666666
    >>> accuracy(["a", "b"], ["a", "a"])
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def label_preservation_rate(reference: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Fraction of augmentations whose predicted label equals the reference label.

    Args:
        reference: the parent's label (or the reference classifier's prediction on the parent).
        predicted: the reference classifier's prediction on each augmentation.
    """
    if len(reference) != len(predicted):
        raise ValueError(f"{len(reference)} references but {len(predicted)} predictions")
    if not reference:
        return math.nan
    return sum(1 for a, b in zip(reference, predicted) if a == b) / len(reference)


def accuracy(labels: Sequence[Any], predicted: Sequence[Any]) -> float:
    """Fraction of correct predictions."""
    return label_preservation_rate(labels, predicted)


__all__ = ["label_preservation_rate", "accuracy"]
