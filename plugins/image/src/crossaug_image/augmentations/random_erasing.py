"""Random erasing (Zhong et al., AAAI 2020): blank out a random rectangle.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> img = Image.new("RGB", (10, 10), (255, 255, 255))
    >>> out = np.asarray(erase(img, [2, 3, 4, 5], "zero", 0))
    >>> int((out == 0).all(axis=2).sum()), out[0, 0].tolist()
    (20, [255, 255, 255])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample

from .base import ImageAugmentation, check_prob, check_range

VALUES = ("zero", "random", "mean")


def erase(img: Any, box: Sequence[int], value: str, seed: int) -> Any:
    """Fill ``box`` = (left, top, w, h) with zeros, the image mean, or noise drawn from ``seed``."""
    from PIL import Image

    arr = np.array(img)
    left, top, w, h = (int(v) for v in box)
    region = arr[top:top + h, left:left + w]
    if value == "zero":
        region[...] = 0
    elif value == "mean":
        region[...] = arr.reshape(-1, *arr.shape[2:]).mean(axis=0).round().astype(np.uint8)
    else:
        region[...] = np.random.default_rng(seed).integers(0, 256, size=region.shape, dtype=np.uint8)
    return Image.fromarray(arr, mode=img.mode)


class RandomErasing(ImageAugmentation):
    """With probability ``p``, erase a rectangle of ``scale`` of the area and aspect ``ratio``.

    Args:
        p: probability of erasing (paper: 0.5).
        scale: area fraction range (paper: 0.02-0.4; torchvision 0.02-0.33).
        ratio: aspect ratio range h/w (paper: 0.3-3.3).
        value: ``zero``, ``mean`` (image mean colour) or ``random`` (noise, paper's choice).
        field: image field to change.
    """

    name: ClassVar[str] = "image.random-erasing"

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: str = "random", field: str = "image") -> None:
        self.p = check_prob("p", p)
        self.scale = list(check_range("scale", scale, 1e-6, 1.0))
        self.ratio = list(check_range("ratio", ratio, 1e-3, 1e3))
        if value not in VALUES:
            raise ConfigError(f"value must be one of {', '.join(VALUES)}, got {value!r}")
        self.value = value
        self._set_field(field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"box": None}
        W, H = self.image(sample).size
        area = W * H
        for _ in range(10):
            target = area * float(rng.uniform(*self.scale))
            r = math.exp(float(rng.uniform(math.log(self.ratio[0]), math.log(self.ratio[1]))))
            h = int(round(math.sqrt(target * r)))
            w = int(round(math.sqrt(target / r)))
            if 0 < w < W and 0 < h < H:
                left = int(rng.integers(0, W - w + 1))
                top = int(rng.integers(0, H - h + 1))
                return {"box": [left, top, w, h], "seed": int(rng.integers(0, 2**31 - 1))}
        return {"box": None}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        img = self.image(sample)
        box = params.get("box")
        out = img.copy() if box is None else erase(img, box, self.value, int(params.get("seed", 0)))
        return sample.derive(None, **{self.field: out})


__all__ = ["RandomErasing", "erase"]
