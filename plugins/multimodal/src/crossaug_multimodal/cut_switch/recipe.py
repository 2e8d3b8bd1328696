"""Recipe ``cut-switch``: ``n`` Cut-Switch variants of each aligned RGB/depth (or thermal) sample.

Example:
    >>> from crossaug import Sample
    >>> from PIL import Image
    >>> s = Sample("a", {"image": Image.new("RGB", (16, 16)), "image.depth": Image.new("L", (16, 16), 9)})
    >>> [o.id for o in CutSwitchRecipe(n=2)([s])]
    ['a~0', 'a~1']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import Augment

from .augmentation import CutSwitch


class CutSwitchRecipe(Augment):
    """``n`` block-switched copies of each input (see :class:`CutSwitch`).

    Args:
        field: the aligned image fields to switch between.
        n: outputs per input.
        area: block area range (fraction of the image).
        aspect: block width/height ratio range.
        mode: ``random`` (random switch between fields; survey) or ``rotate``.
        keep_channels: keep each field's mode (grey maps stay grey).
    """

    name: ClassVar[str] = "cut-switch"

    def __init__(self, field: Sequence[str] = ("image", "image.depth"), n: int = 1,
                 area: Sequence[float] = (0.1, 0.5), aspect: Sequence[float] = (0.5, 2.0), mode: str = "random",
                 keep_channels: bool = True) -> None:
        aug = CutSwitch(field=field, area=area, aspect=aspect, mode=mode, keep_channels=keep_channels)
        super().__init__(aug, n=n)
        self.field = aug.field
        self.area = aug.area
        self.aspect = aug.aspect
        self.mode = aug.mode
        self.keep_channels = aug.keep_channels

    def get_params(self) -> dict[str, Any]:
        return {"field": self.field, "n": self.n, "area": self.area, "aspect": self.aspect, "mode": self.mode,
                "keep_channels": self.keep_channels}


__all__ = ["CutSwitchRecipe"]
