"""Small image helpers shared by the multimodal methods (PIL <-> arrays, resizing).

Example:
    >>> import numpy as np
    >>> img = to_pil(np.zeros((8, 8, 3), np.uint8))
    >>> to_array(img).shape, to_array(resize_like(img, (16, 12))).shape
    ((8, 8, 3), (12, 16, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_array(image: Any) -> np.ndarray:
    """An image (PIL or array) as a uint8 ``HxW`` or ``HxWxC`` array (a copy)."""
    return np.array(image, dtype=np.uint8, copy=True)


def to_pil(array: np.ndarray) -> Any:
    """A uint8 ``HxW`` or ``HxWx3`` array as a PIL image (``L`` or ``RGB``)."""
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(array.astype(np.uint8)))


def resize_like(image: Any, size: tuple[int, int]) -> Any:
    """``image`` resized to ``size`` = (width, height) with bilinear filtering (no-op if equal)."""
    from PIL import Image

    if tuple(image.size) == tuple(size):
        return image
    return image.resize(tuple(int(v) for v in size), Image.Resampling.BILINEAR)


def as_rgb_array(image: Any) -> np.ndarray:
    """``HxWx3`` uint8 array of an ``L`` or ``RGB`` image (grey replicated)."""
    arr = to_array(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    return arr


def crop_box(box: Any, width: int, height: int) -> tuple[int, int, int, int] | None:
    """``[x0, y0, x1, y1]`` clipped to the image as ints; ``None`` if empty or malformed."""
    try:
        x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        return None
    x0, x1 = max(0, min(x0, width)), max(0, min(x1, width))
    y0, y1 = max(0, min(y0, height)), max(0, min(y1, height))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


__all__ = ["to_array", "to_pil", "resize_like", "as_rgb_array", "crop_box"]
