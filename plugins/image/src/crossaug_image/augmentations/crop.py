"""Random resized crop: a random area and aspect ratio, resized back to a fixed size.

The sampling follows Szegedy et al. (Inception, 2015) as popularised by
torchvision's ``RandomResizedCrop``: area fraction in ``scale``, log-uniform aspect
ratio in ``ratio``, ten tries, then a central crop.

Example:
    >>> import numpy as np
    >>> box = sample_crop_box(100, 50, (0.5, 0.5), (1.0, 1.0), np.random.default_rng(0))
    >>> box[2] * box[3], box[2] == box[3]
    (2500, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample

from .base import ImageAugmentation, check_range


def sample_crop_box(width: int, height: int, scale: Sequence[float], ratio: Sequence[float],
                    rng: np.random.Generator, tries: int = 10) -> tuple[int, int, int, int]:
    """``(left, top, w, h)`` of a crop covering ``scale`` of the area with aspect ``ratio`` (w/h)."""
    area = width * height
    log_r = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(tries):
        target = area * float(rng.uniform(scale[0], scale[1]))
        aspect = math.exp(float(rng.uniform(*log_r)))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left = int(rng.integers(0, width - w + 1))
            top = int(rng.integers(0, height - h + 1))
            return left, top, w, h
    in_ratio = width / height  # fallback: central crop clamped to the ratio range
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        h, w = height, int(round(height * ratio[1]))
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


class RandomResizedCrop(ImageAugmentation):
    """Crop a random region and resize it to ``size`` (default: the input's size).

    Args:
        scale: range of the crop's area as a fraction of the image (torchvision: 0.08-1.0;
            the default 0.5-1.0 keeps the object in view, which label-preserving
            augmentation needs).
        ratio: range of aspect ratios w/h (3/4 to 4/3).
        size: output ``[width, height]``; ``None`` keeps the input size.
        field: image field to crop.
    """

    name: ClassVar[str] = "image.crop"

    def __init__(self, scale: Sequence[float] = (0.5, 1.0), ratio: Sequence[float] = (3 / 4, 4 / 3),
                 size: Sequence[int] | None = None, field: str = "image") -> None:
        self.scale = list(check_range("scale", scale, 1e-6, 1.0))
        self.ratio = list(check_range("ratio", ratio, 1e-3, 1e3))
        if size is not None:
            if len(size) != 2 or any(not isinstance(v, int) or v < 1 for v in size):
                raise ConfigError(f"size must be [width, height] of positive ints, got {size!r}")
            size = [int(v) for v in size]
        self.size = size
        self._set_field(field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        w, h = self.image(sample).size
        left, top, cw, ch = sample_crop_box(w, h, self.scale, self.ratio, rng)
        return {"box": [left, top, cw, ch]}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        from PIL import Image

        img = self.image(sample)
        left, top, cw, ch = (int(v) for v in params["box"])
        size = tuple(self.size) if self.size else img.size
        out = img.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + cw, top + ch))
        return sample.derive(None, **{self.field: out})


__all__ = ["RandomResizedCrop", "sample_crop_box"]
