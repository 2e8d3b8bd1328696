"""Shared base of the classic image augmentations (pure numpy/PIL, no torchvision).

Example:
    >>> check_range("scale", (0.5, 1.0), 0.0, 1.0)
    (0.5, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import Augmentation, ConfigError


def check_range(what: str, value: Sequence[float], lo: float, hi: float) -> tuple[float, float]:
    """Validate a ``(low, high)`` pair inside ``[lo, hi]``."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what} must be a (low, high) pair, got {value!r}") from None
    if not lo <= a <= b <= hi:
        raise ConfigError(f"{what} must satisfy {lo} <= low <= high <= {hi}, got {value!r}")
    return a, b


def check_prob(what: str, p: float) -> float:
    if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"{what} must be a probability in [0, 1], got {p!r}")
    return float(p)


class ImageAugmentation(Augmentation):
    """An augmentation of one image field (default ``image``)."""

    modalities: ClassVar[tuple[str, ...]] = ("image",)
    field: str = "image"

    def _set_field(self, field: str) -> None:
        if not isinstance(field, str) or field.split(".", 1)[0] != "image":
            raise ConfigError(f"{self.name}: field must be an image field (image or image.*), got {field!r}")
        self.field = field

    def image(self, sample: Any) -> Any:
        return sample[self.field]


__all__ = ["ImageAugmentation", "check_range", "check_prob"]
