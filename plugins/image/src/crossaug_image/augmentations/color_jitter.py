"""Colour jitter: random brightness, contrast, saturation and hue, in a random order.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> img = Image.new("RGB", (8, 8), (200, 40, 40))
    >>> np.asarray(shift_hue(img, 0.5))[0, 0].tolist()  # red -> cyan (PIL HSV rounding)
    [40, 198, 200]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample

from .base import ImageAugmentation

FACTORS = ("brightness", "contrast", "saturation", "hue")


def shift_hue(img: Any, shift: float) -> Any:
    """Rotate the hue of an RGB image by ``shift`` turns (``[-0.5, 0.5]``); grey images are unchanged."""
    from PIL import Image

    if img.mode != "RGB" or shift == 0:
        return img.copy()
    h, s, v = img.convert("HSV").split()
    arr = (np.asarray(h, dtype=np.int16) + int(round(shift * 255))) % 256
    h = Image.fromarray(arr.astype(np.uint8), mode="L")
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def jitter(img: Any, order: list[str], factors: Mapping[str, float]) -> Any:
    """Apply the enhancement factors (1.0 = unchanged; hue: shift in turns) in ``order``."""
    from PIL import ImageEnhance

    ops = {"brightness": ImageEnhance.Brightness, "contrast": ImageEnhance.Contrast,
           "saturation": ImageEnhance.Color}
    out = img
    for name in order:
        f = float(factors[name])
        if name == "hue":
            out = shift_hue(out, f)
        elif out.mode == "L" and name == "saturation":
            continue
        elif f != 1.0:
            out = ops[name](out).enhance(f)
    return out if out is not img else img.copy()  # each operation makes a new image; never the input


class ColorJitter(ImageAugmentation):
    """Randomly change brightness, contrast, saturation and hue.

    Factors are drawn uniformly from ``[1 - x, 1 + x]`` (hue: shift in ``[-hue, hue]``
    turns), as in torchvision's ``ColorJitter``; the four are applied in a random order.

    Args:
        brightness, contrast, saturation: jitter strength (0 disables; SimCLR uses 0.8).
        hue: hue jitter in turns, at most 0.5 (SimCLR: 0.2).
        field: image field to change.
    """

    name: ClassVar[str] = "image.color-jitter"

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4,
                 hue: float = 0.1, field: str = "image") -> None:
        for what, v, top in (("brightness", brightness, 1.0), ("contrast", contrast, 1.0),
                             ("saturation", saturation, 1.0), ("hue", hue, 0.5)):
            if not isinstance(v, (int, float)) or not 0 <= v <= top:
                raise ConfigError(f"{what} must lie in [0, {top}], got {v!r}")
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)
        self._set_field(field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        order = [FACTORS[int(i)] for i in rng.permutation(len(FACTORS))]
        params: dict[str, Any] = {"order": order}
        for name in ("brightness", "contrast", "saturation"):
            x = getattr(self, name)
            params[name] = float(rng.uniform(1 - x, 1 + x))
        params["hue"] = float(rng.uniform(-self.hue, self.hue))
        return params

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = jitter(self.image(sample), list(params["order"]), params)
        return sample.derive(None, **{self.field: out})


__all__ = ["ColorJitter", "jitter", "shift_hue"]
