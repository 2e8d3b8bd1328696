"""Random rotation by a small angle, corners filled with a constant colour.

Example:
    >>> import numpy as np
    >>> from PIL import Image
    >>> img = Image.fromarray(np.arange(16, dtype=np.uint8).reshape(4, 4))
    >>> np.asarray(rotate_image(img, 90.0, 0)).tolist()[0]  # counter-clockwise
    [3, 7, 11, 15]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample

from .base import ImageAugmentation


def rotate_image(img: Any, angle: float, fill: int) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees about the centre, keeping the size."""
    from PIL import Image

    color = fill if img.mode == "L" else (fill, fill, fill)
    return img.rotate(angle, resample=Image.Resampling.BILINEAR if angle % 90 else Image.Resampling.NEAREST,
                      expand=False, fillcolor=color)


class Rotate(ImageAugmentation):
    """Rotate by an angle drawn uniformly from ``[-degrees, degrees]``.

    Args:
        degrees: largest rotation in degrees (default 15).
        fill: grey level (0-255) of the uncovered corners.
        field: image field to rotate.
    """

    name: ClassVar[str] = "image.rotate"

    def __init__(self, degrees: float = 15.0, fill: int = 0, field: str = "image") -> None:
        if not isinstance(degrees, (int, float)) or not 0 < degrees <= 180:
            raise ConfigError(f"degrees must lie in (0, 180], got {degrees!r}")
        if not isinstance(fill, int) or not 0 <= fill <= 255:
            raise ConfigError(f"fill must be an int in [0, 255], got {fill!r}")
        self.degrees = float(degrees)
        self.fill = fill
        self._set_field(field)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"angle": float(rng.uniform(-self.degrees, self.degrees))}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        out = rotate_image(self.image(sample), float(params["angle"]), self.fill)
        return sample.derive(None, **{self.field: out})


__all__ = ["Rotate", "rotate_image"]
