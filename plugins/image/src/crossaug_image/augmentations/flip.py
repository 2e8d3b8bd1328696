"""Random horizontal and vertical flips.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> from crossaug import Sample
    >>> img = Image.fromarray(np.arange(8 * 8 * 3, dtype=np.uint8).reshape(8, 8, 3))
    >>> out = Flip(horizontal=1.0, vertical=0.0).replay(Sample("s", {"image": img}), {"horizontal": True,
    ...                                                                                 "vertical": False})
    >>> bool((np.asarray(out["image"]) == np.asarray(img)[:, ::-1]).all())
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from crossaug import Sample

from .base import ImageAugmentation, check_prob


def flip_image(img: Any, horizontal: bool, vertical: bool) -> Any:
    """Mirror ``img`` left-right and/or top-bottom."""
    from PIL import Image

    out = img
    if horizontal:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if vertical:
        out = out.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return out if out is not img else img.copy()  # a flip makes a new image; never hand back the input


class Flip(ImageAugmentation):
    """Flip left-right with probability ``horizontal`` and top-bottom with probability ``vertical``.

    Args:
        horizontal: probability of a horizontal flip (torchvision default 0.5).
        vertical: probability of a vertical flip (0: off; most photos have an "up").
        field: image field to flip.
    """

    name: ClassVar[str] = "image.flip"

    def __init__(self, horizontal: float = 0.5, vertical: float = 0.0, field: str = "image") -> None:
        self.horizontal = check_prob("horizontal", horizontal)
        self.vertical = check_prob("vertical", vertical)
        self._set_field(field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"horizontal": bool(rng.random() < self.horizontal), "vertical": bool(rng.random() < self.vertical)}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = flip_image(self.image(sample), bool(params["horizontal"]), bool(params["vertical"]))
        return sample.derive(None, **{self.field: out})


__all__ = ["Flip", "flip_image"]
