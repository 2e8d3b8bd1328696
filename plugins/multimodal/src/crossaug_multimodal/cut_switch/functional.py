"""Cut-Switch, the pure part: cut one block and switch it across aligned modalities.

Given ``n`` spatially aligned maps of one scene (an RGB image and its depth or
thermal map), the same rectangular block is cut out of each and the blocks are
rotated by ``shift`` places: with two maps, the image receives the depth map's
block and the depth map receives the image's block. Nothing is lost: every
switched-out block lives on in another output, and :func:`unswitch` (rotating
back) restores the inputs exactly. Maps with fewer channels are promoted (grey
replicated to RGB) before switching so no channel is dropped.

Block sampling follows CutMix (Yun et al., 2019): area fraction and aspect ratio
drawn uniformly, position uniform over the valid range.

Example:
    >>> import numpy as np
    >>> rgb = np.zeros((4, 4, 3), np.uint8); depth = np.full((4, 4), 9, np.uint8)
    >>> a, b = cut_switch([rgb, depth], [0, 0, 2, 2])
    >>> int(a[0, 0, 0]), int(a[3, 3, 0]), int(b[0, 0, 0]), int(b[3, 3, 0])
    (9, 0, 0, 9)
    >>> back_rgb, back_depth = unswitch([a, b], [0, 0, 2, 2])
    >>> bool((back_rgb == rgb).all()), bool((back_depth[..., 0] == depth).all())
    (True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def sample_box(height: int, width: int, rng: np.random.Generator,
               area: Sequence[float] = (0.1, 0.5), aspect: Sequence[float] = (0.5, 2.0)) -> list[int]:
    """Draw a block ``[x0, y0, x1, y1]`` (pixels, exclusive ends) inside an ``height x width`` map.

    Args:
        height, width: map size in pixels.
        rng: the only source of randomness.
        area: range of the block's area as a fraction of the map.
        aspect: range of the block's width/height ratio (drawn log-uniformly).

    Example:
        >>> x0, y0, x1, y1 = sample_box(10, 20, np.random.default_rng(0))
        >>> 0 <= x0 < x1 <= 20 and 0 <= y0 < y1 <= 10
        True
    """
    frac = float(rng.uniform(area[0], area[1]))
    ratio = math.exp(float(rng.uniform(math.log(aspect[0]), math.log(aspect[1]))))
    target = frac * height * width
    bw = int(round(math.sqrt(target * ratio)))
    bh = int(round(math.sqrt(target / ratio)))
    bw = max(1, min(width, bw))
    bh = max(1, min(height, bh))
    x0 = int(rng.integers(0, width - bw + 1))
    y0 = int(rng.integers(0, height - bh + 1))
    return [x0, y0, x0 + bw, y0 + bh]


def _promote(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Copies with a common channel count (``HxW`` grey becomes ``HxWx3`` when any map has 3)."""
    arrs = [np.asarray(a) for a in arrays]
    channels = max((a.shape[2] if a.ndim == 3 else 1) for a in arrs)
    out = []
    for a in arrs:
        if a.ndim == 2 and channels > 1:
            a = np.repeat(a[:, :, None], channels, axis=2)
        elif a.ndim == 3 and a.shape[2] == 1 and channels > 1:
            a = np.repeat(a, channels, axis=2)
        elif a.ndim == 3 and a.shape[2] != channels:
            raise ValueError(f"cannot align {a.shape[2]} channels with {channels}")
        out.append(np.array(a, copy=True))
    return out


def cut_switch(arrays: Sequence[np.ndarray], box: Sequence[int], shift: int = 1) -> list[np.ndarray]:
    """Rotate the block ``box`` across aligned maps: output ``k`` gets input ``(k + shift) % n``'s block.

    Args:
        arrays: ``n >= 2`` maps of the same height and width (``HxW`` or ``HxWxC``).
        box: ``[x0, y0, x1, y1]`` in pixels, exclusive ends.
        shift: how many places the blocks move (1 with two maps is a plain swap).

    Returns:
        New arrays (inputs are never modified), promoted to a common channel count.
    """
    arrs = _promote(arrays)
    if len(arrs) < 2:
        raise ValueError("cut_switch needs at least two aligned maps")
    h, w = arrs[0].shape[:2]
    if any(a.shape[:2] != (h, w) for a in arrs):
        raise ValueError(f"maps are not aligned: sizes {[a.shape[:2] for a in arrs]}")
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"block {list(box)} outside a {w}x{h} map")
    n = len(arrs)
    blocks = [a[y0:y1, x0:x1].copy() for a in arrs]
    for k, a in enumerate(arrs):
        a[y0:y1, x0:x1] = blocks[(k + shift) % n]
    return arrs


def unswitch(arrays: Sequence[np.ndarray], box: Sequence[int], shift: int = 1) -> list[np.ndarray]:
    """Undo :func:`cut_switch` with the same ``box`` and ``shift`` (exact)."""
    return cut_switch(arrays, box, shift=-int(shift) % len(arrays))


__all__ = ["sample_box", "cut_switch", "unswitch"]
