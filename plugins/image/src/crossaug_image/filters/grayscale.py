"""Detect black-and-white images, tinted ones included (Back-Modality discards them from back-imagination).

The paper drops imagined images that come out "black and white", because the
captioner then writes "a black and white photo of ...". Such images are often not
grey but *tinted*: sepia, a blue cast. :func:`colour_score` (the default) measures
the colour left once a single muted tint is allowed: in CIELAB, with ``C_i`` the
chroma and ``(a_i, b_i)`` the colour of pixel ``i`` of ``N``, and ``T = max_tint``,

    off_tint = (sum_i C_i - |sum_i (a_i, b_i)|) / N    (mean chroma x (1 - hue concentration))
    score = (off_tint + max(0, |mean_i (a_i, b_i)| - T)) / 100

A grey image scores 0 (no chroma), a tinted monochrome image about 0 (all its
chroma points one way and the tint is muted: sepia and cyanotype tints sit near
20-35 chroma units), an image with several hues or one vivid colour well above. :func:`chroma`
(mean ``max(R, G, B) - min(R, G, B)``, the earlier measure) only catches grey and
is kept as ``method="spread"``.

Example:
    >>> from PIL import Image, ImageOps
    >>> grey = Image.linear_gradient("L").resize((32, 32))
    >>> sepia = ImageOps.colorize(grey, (40, 26, 13), (255, 240, 192))
    >>> round(chroma(sepia), 3), round(colour_score(sepia), 3)  # the spread misses it, the tint score does not
    (0.177, 0.001)
    >>> two = Image.new("RGB", (2, 1)); two.putpixel((0, 0), (200, 30, 30)); two.putpixel((1, 0), (30, 30, 200))
    >>> round(colour_score(two), 2)  # red and blue: far from any single tint
    0.5
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Filter, Sample

#: sRGB (D65) -> XYZ matrix and the D65 white point.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


_UNIT = np.arange(256, dtype=np.float64) / 255.0
#: sRGB -> linear light of each 8-bit level (the per-pixel formula, computed for the 256 levels once)
_LINEAR = np.where(_UNIT <= 0.04045, _UNIT / 12.92, ((_UNIT + 0.055) / 1.055) ** 2.4)


def _lab_f(img: Any) -> np.ndarray:
    """CIELAB's ``f(X/Xn), f(Y/Yn), f(Z/Zn)`` per pixel, ``(H, W, 3)``."""
    rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))  # uint8: 256 levels per channel
    xyz = _LINEAR[rgb] @ _RGB_TO_XYZ.T / _WHITE
    eps, kappa = 216 / 24389, 24389 / 27
    return np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)


def to_lab(img: Any) -> np.ndarray:
    """CIELAB ``(H, W, 3)`` of an image (sRGB, D65)."""
    f = _lab_f(img)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _ab(img: Any) -> np.ndarray:
    """CIELAB ``(a, b)`` of every pixel, ``(H * W, 2)``: :func:`to_lab` without the lightness."""
    f = _lab_f(img)
    return np.stack([500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1).reshape(-1, 2)


def chroma(img: Any) -> float:
    """Mean channel spread ``max(R, G, B) - min(R, G, B)`` in ``[0, 1]`` (``L`` images score 0)."""
    if img.mode == "L":
        return 0.0
    arr = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
    r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)  # uint8: max >= min
    return float(spread.mean() / 255.0)


def hue_concentration(img: Any) -> float:
    """Chroma-weighted mean resultant length of the hue, in ``[0, 1]`` (1: a single hue; grey: 1)."""
    ab = _ab(img)
    total = float(np.hypot(ab[:, 0], ab[:, 1]).sum())
    return 1.0 if total < 1e-9 else float(np.hypot(*ab.sum(axis=0)) / total)


#: Ours: the strongest single tint (mean CIELAB chroma) still read as a monochrome photo's.
MAX_TINT = 40.0


def colour_score(img: Any, max_tint: float = MAX_TINT) -> float:
    """Colour beyond one muted tint (see the module docstring); 0 for grey and tinted monochrome."""
    if img.mode in ("L", "1", "I", "F"):
        return 0.0
    ab = _ab(img)
    c = np.hypot(ab[:, 0], ab[:, 1])
    mean_tint = float(np.hypot(*ab.mean(axis=0)))
    off_tint = max(float(c.mean()) - mean_tint, 0.0)
    return (off_tint + max(mean_tint - max_tint, 0.0)) / 100.0


#: The scores :class:`Grayscale` can use, by ``method``.
METHODS = {"tint": colour_score, "spread": chroma}


def monochrome_score(img: Any, method: str = "tint") -> float:
    """The score of ``method`` (``"tint"``: :func:`colour_score`, ``"spread"``: :func:`chroma`)."""
    if method not in METHODS:
        raise ConfigError(f"unknown black-and-white method {method!r}; choose from {sorted(METHODS)}")
    return float(METHODS[method](img))


def is_grayscale(img: Any, threshold: float = 0.02, method: str = "tint") -> bool:
    """True when the image is black-and-white or tinted monochrome (its score is below ``threshold``)."""
    return monochrome_score(img, method) < threshold


class Grayscale(Filter):
    """Reject candidates whose image is black-and-white, tinted monochrome (sepia, blue cast) included.

    Args:
        threshold: smallest accepted score (0.02: two CIELAB chroma units of colour off the
            dominant tint; ours).
        field: image field examined.
        method: ``"tint"`` (:func:`colour_score`, default) or ``"spread"`` (:func:`chroma`,
            grey only: lets sepia through).

    A picture in one muted hue only (a beige wall, a foggy blue scene) also scores
    low and is rejected under ``"tint"``; vivid single colours pass.
    """

    name: ClassVar[str] = "image.grayscale"

    def __init__(self, threshold: float = 0.02, field: str = "image", method: str = "tint") -> None:
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
            raise ConfigError(f"threshold must lie in [0, 1], got {threshold!r}")
        if method not in METHODS:
            raise ConfigError(f"image.grayscale: method must be one of {sorted(METHODS)}, got {method!r}")
        self.threshold = float(threshold)
        self.field = field
        self.method = method

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        """Each candidate's score; an image shared by several candidates (a text-only augmentation
        keeps the input's) is scored once."""
        scores: dict[int, float] = {}
        out = []
        for c in candidates:
            img = c[self.field]
            if id(img) not in scores:  # the candidates hold their images for the whole call
                scores[id(img)] = monochrome_score(img, self.method)
            out.append(scores[id(img)])
        return out

    def passes(self, score: float) -> bool:
        return score >= self.threshold

    def verdict(self, score: float) -> str:
        return (f"{self.name}: image is black-and-white or tinted monochrome "
                f"({self.method} score {score:.4f} < {self.threshold})")


__all__ = ["Grayscale", "chroma", "colour_score", "hue_concentration", "is_grayscale", "monochrome_score", "to_lab",
           "METHODS", "MAX_TINT"]
