"""Hard and mixed (soft) labels as the classifiers of the evaluation see them.

Mixing methods label a blend of two examples with both classes: MixGen's
``label_mode="soft"`` gives ``[[y_a, lam], [y_b, 1 - lam]]`` when the labels
differ (Hao et al. 2023, the mixup convention of Zhang et al. 2018). The
built-in classifiers train on such labels as soft targets: the neural ones
(``text-finetune``, ``image-cnn``, ``audio-cnn``) minimise cross-entropy against
the class distribution, logistic regression fits one weighted row per class
(weight = its share), which is the same loss. Code that needs one class (a
user's callable classifier, accuracy) uses :func:`dominant_label`: the class
with the largest share, the first listed on a tie (MixGen lists the input's
own label first).

Example:
    >>> soft = [["cat", 0.75], ["dog", 0.25]]
    >>> is_soft(soft), is_soft("cat"), dominant_label(soft), label_weights(soft)
    (True, False, 'cat', {'cat': 0.75, 'dog': 0.25})
    >>> label_weights("cat"), dominant_label([["cat", 0.5], ["dog", 0.5]])
    ({'cat': 1.0}, 'cat')
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

from crossaug.errors import BadSample


def is_soft(label: Any) -> bool:
    """Whether ``label`` is a mixed label: a list of ``[label, share]`` pairs with numeric shares."""
    if not isinstance(label, (list, tuple)) or not label:
        return False
    return all(isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[1], (int, float))
               and not isinstance(p[1], bool) for p in label)


def label_weights(label: Any, sample_id: str | None = None) -> dict[Hashable, float]:
    """``{class: share}`` of a label (a hard label is ``{label: 1.0}``); shares of a repeated class add up.

    Raises:
        BadSample: shares that are negative, not finite or do not sum to 1.
    """
    if not is_soft(label):
        return {label: 1.0}
    out: dict[Hashable, float] = {}
    for cls, share in label:
        share = float(share)
        if not math.isfinite(share) or share < 0:
            raise BadSample(f"mixed label share {share!r} of class {cls!r}; expected a finite share >= 0",
                            sample_id=sample_id, field="label")
        cls = tuple(cls) if isinstance(cls, list) else cls
        out[cls] = out.get(cls, 0.0) + share
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise BadSample(f"mixed label shares sum to {total:.6g}; expected 1", sample_id=sample_id, field="label")
    return out


def dominant_label(label: Any, sample_id: str | None = None) -> Any:
    """The class with the largest share (the first listed on a tie); a hard label itself."""
    if not is_soft(label):
        return label
    weights = label_weights(label, sample_id)
    best = max(weights.values())
    return next(c for c, w in weights.items() if w == best)


def label_classes(labels: Sequence[Any]) -> list[Any]:
    """Sorted distinct classes of hard and mixed labels (every class a mixed label names).

    Example:
        >>> label_classes(["b", [["a", 0.5], ["c", 0.5]], "b"])
        ['a', 'b', 'c']
    """
    seen: set[Any] = set()
    for y in labels:
        seen.update(label_weights(y))
    return sorted(seen, key=repr)


__all__ = ["is_soft", "label_weights", "dominant_label", "label_classes"]
