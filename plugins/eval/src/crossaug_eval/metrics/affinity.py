"""Affinity and diversity (Gontijo-Lopes et al. 2020, "Tradeoffs in Data Augmentation").

*Affinity* is how far augmented data lies from the clean distribution as a
model trained on clean data sees it: accuracy on augmented validation data over
accuracy on clean validation data. *Diversity* is how much harder augmented
data is to fit: the final training loss of a model trained with augmentation
over that of the same model trained without. The Back-Modality paper reports
both (Sec. 4.4).

Example:
    >>> affinity(0.5, 0.8)
    0.625
    >>> diversity(0.75, 0.25)
    3.0
"""

from __future__ import annotations

import math


def affinity(accuracy_augmented: float, accuracy_clean: float) -> float:
    """Accuracy on augmented validation data / accuracy on clean validation data.

    Args:
        accuracy_augmented: accuracy of a model trained on clean data, on augmented
            versions of the validation examples (scored against their parents' labels).
        accuracy_clean: the same model's accuracy on the clean validation examples.

    Returns ``nan`` when the clean accuracy is 0.
    """
    if accuracy_clean <= 0:
        return math.nan
    return float(accuracy_augmented) / float(accuracy_clean)


def diversity(loss_augmented: float, loss_clean: float) -> float:
    """Final training loss with augmentation / final training loss without it.

    Returns ``nan`` when the clean loss is 0 (a model that fits perfectly
    gives no scale to compare with).
    """
    if loss_clean is None or loss_augmented is None or loss_clean <= 0:
        return math.nan
    return float(loss_augmented) / float(loss_clean)


__all__ = ["affinity", "diversity"]
