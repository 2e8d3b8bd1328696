"""Cut-Switch, the pure part: cut one block and switch it across aligned modalities.

Given ``n`` spatially aligned maps of one scene (an RGB image and its depth or
thermal map), the same rectangular block is cut out of each and the blocks are
switched between the maps: output ``k`` receives the block of input
``perm[k]``. The survey describes random switches between modalities, so the
default permutation is drawn at random (:func:`random_permutation`, never the
identity; with two maps it is the swap); :func:`rotation` gives the earlier
fixed rotation by ``shift`` places. Nothing is lost when the maps share their
channel count: every switched-out block lives on in another output and
:func:`unswitch` (the inverse permutation) restores the inputs exactly.

Each map keeps its own channels (``keep_channels=True``): a grey block entering a
colour map is replicated to RGB, a colour block entering a grey map becomes its
luma (ITU-R 601-2, as PIL's ``convert("L")``), so that one block is not exactly
recoverable. ``keep_channels=False`` promotes grey maps to RGB instead (lossless,
but grey maps come back as RGB).

Block sampling follows CutMix (Yun et al., 2019): area fraction and aspect ratio
drawn uniformly, position uniform over the valid range.

Example:
    >>> import numpy as np
    >>> rgb = np.zeros((4, 4, 3), np.uint8); depth = np.full((4, 4), 9, np.uint8)
    >>> a, b = cut_switch([rgb, depth], [0, 0, 2, 2], perm=[1, 0])
    >>> a.shape, b.shape, int(a[0, 0, 0]), int(a[3, 3, 0]), int(b[0, 0]), int(b[3, 3])
    ((4, 4, 3), (4, 4), 9, 0, 0, 9)
    >>> back_rgb, back_depth = unswitch([a, b], [0, 0, 2, 2], perm=[1, 0])
    >>> bool((back_depth == depth).all()), bool((back_rgb == rgb).all())  # black RGB: luma is exact here
    (True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: ITU-R 601-2 luma weights (PIL's ``convert("L")``)
LUMA = (0.299, 0.587, 0.114)


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


def random_permutation(n: int, rng: np.random.Generator) -> list[int]:
    """A uniformly drawn permutation of ``range(n)`` other than the identity (``n >= 2``).

    Example:
        >>> random_permutation(2, np.random.default_rng(0))
        [1, 0]
    """
    if n < 2:
        raise ValueError("a switch needs at least two maps")
    while True:
        perm = [int(v) for v in rng.permutation(n)]
        if perm != list(range(n)):
            return perm


def rotation(n: int, shift: int = 1) -> list[int]:
    """The permutation that gives output ``k`` the block of input ``(k + shift) % n``."""
    return [(k + int(shift)) % n for k in range(n)]


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


def _fit_block(block: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``block`` with the channel layout of map ``like`` (grey replicated, colour to luma)."""
    src_c = block.shape[2] if block.ndim == 3 else 0
    dst_c = like.shape[2] if like.ndim == 3 else 0
    if src_c == dst_c:
        return block
    grey = block if src_c == 0 else block[..., 0] if src_c == 1 else None
    if grey is None:
        if src_c != 3:
            raise ValueError(f"cannot switch a {src_c}-channel block into a {dst_c or 1}-channel map")
        rgb = block.astype(np.float64)
        grey = np.clip(np.rint(rgb @ np.array(LUMA)), 0, 255).astype(block.dtype)
    if dst_c == 0:
        return grey
    return np.repeat(grey[..., None], dst_c, axis=2)


def cut_switch(arrays: Sequence[np.ndarray], box: Sequence[int], shift: int = 1,
               perm: Sequence[int] | None = None, keep_channels: bool = True) -> list[np.ndarray]:
    """Switch the block ``box`` across aligned maps: output ``k`` gets input ``perm[k]``'s block.

    Args:
        arrays: ``n >= 2`` maps of the same height and width (``HxW`` or ``HxWxC``).
        box: ``[x0, y0, x1, y1]`` in pixels, exclusive ends.
        shift: rotation used when ``perm`` is ``None`` (``perm = rotation(n, shift)``).
        perm: which input's block each output receives (a permutation of ``range(n)``).
        keep_channels: keep each map's channel count (else promote all to the largest).

    Returns:
        New arrays (inputs are never modified).
    """
    arrs = [np.array(a, copy=True) for a in arrays] if keep_channels else _promote(arrays)
    if len(arrs) < 2:
        raise ValueError("cut_switch needs at least two aligned maps")
    h, w = arrs[0].shape[:2]
    if any(a.shape[:2] != (h, w) for a in arrs):
        raise ValueError(f"maps are not aligned: sizes {[a.shape[:2] for a in arrs]}")
    x0, y0, x1, y1 = (int(v) for v in box)
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise ValueError(f"block {list(box)} outside a {w}x{h} map")
    n = len(arrs)
    order = rotation(n, shift) if perm is None else [int(p) for p in perm]
    if sorted(order) != list(range(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1}, got {list(order)}")
    blocks = [a[y0:y1, x0:x1].copy() for a in arrs]
    for k, a in enumerate(arrs):
        a[y0:y1, x0:x1] = _fit_block(blocks[order[k]], a)
    return arrs


def unswitch(arrays: Sequence[np.ndarray], box: Sequence[int], shift: int = 1,
             perm: Sequence[int] | None = None, keep_channels: bool = True) -> list[np.ndarray]:
    """Undo :func:`cut_switch` with the same ``box`` and ``perm`` (or ``shift``): the inverse permutation.

    Exact when the maps share their channel count (or with ``keep_channels=False``).
    """
    n = len(arrays)
    order = rotation(n, shift) if perm is None else [int(p) for p in perm]
    inverse = [0] * n
    for k, src in enumerate(order):
        inverse[src] = k
    return cut_switch(arrays, box, perm=inverse, keep_channels=keep_channels)


__all__ = ["sample_box", "random_permutation", "rotation", "cut_switch", "unswitch", "LUMA"]
