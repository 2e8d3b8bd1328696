"""Diffusers' float pixel arrays as PIL images, as its own PIL output makes them.

Example:
    >>> import numpy as np
    >>> img, finite = to_pil(np.array([[[0.0, 0.5, float("nan")]]]))
    >>> img.getpixel((0, 0)), finite
    ((0, 128, 0), False)
"""

from __future__ import annotations

from typing import Any

import numpy as np


def to_pil(arr: Any) -> tuple[Any, bool]:
    """A ``[0, 1]`` float HxWx3 array as an RGB PIL image (diffusers' own rounding), and whether it was finite.

    NaN becomes 0 and infinities the nearer end of ``[0, 1]``; the caller decides what a
    non-finite image means (an error of its sample).
    """
    from PIL import Image

    finite = bool(np.isfinite(arr).all())
    if not finite:
        arr = np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0)
    return Image.fromarray((np.clip(arr, 0, 1) * 255).round().astype(np.uint8), mode="RGB"), finite


__all__ = ["to_pil"]
