"""``multimodal.cut-switch``: switch one random block between aligned image fields.

Example:
    >>> import numpy as np
    >>> from crossaug import Sample
    >>> from PIL import Image
    >>> s = Sample("s1", {"image": Image.new("RGB", (16, 16), (200, 0, 0)),
    ...                   "image.depth": Image.new("L", (16, 16), 40)})
    >>> out = CutSwitch().augment(s, np.random.default_rng(0))
    >>> params = out.lineage[-1].params
    >>> params["perm"], out.fields["image"].getpixel((params["box"][0], params["box"][1]))
    ([1, 0], (40, 40, 40))
    >>> out.fields["image.depth"].mode, out.fields["image.depth"].getpixel((params["box"][0], params["box"][1]))
    ('L', 60)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import Augmentation, BadSample, ConfigError, Sample

from .._images import to_array, to_pil
from .functional import cut_switch, random_permutation, rotation, sample_box, unswitch

MODES = ("random", "rotate")


def _check_range(name: str, value: Sequence[float], low: float, high: float) -> list[float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"multimodal.cut-switch {name} must be two numbers [min, max], got {value!r}") from None
    if not (low < a <= b <= high):
        raise ConfigError(f"multimodal.cut-switch {name} must satisfy {low} < min <= max <= {high}, got {[a, b]}")
    return [a, b]


class CutSwitch(Augmentation):
    """Cut one random block and switch it across spatially aligned image fields.

    The same block is cut from every field in ``field`` and the blocks are
    switched at random between the fields (``mode="random"``, the survey's
    description: a random permutation other than the identity, recorded as
    ``perm``; two fields: a swap), or rotated by one place (``mode="rotate"``, the
    earlier behaviour, recorded as ``shift``). An RGB image then shows a patch of
    its depth or thermal map and the map shows the RGB patch. Each field keeps its
    mode (``keep_channels=True``): grey blocks are replicated into RGB fields and
    RGB blocks enter grey fields as their luma, so the RGB block is the one thing
    not exactly recoverable; with fields of one mode (or ``keep_channels=False``,
    which promotes grey maps to RGB) :meth:`reverse` restores the input exactly.

    Args:
        field: two or more aligned image fields (same width and height).
        area: range of the block's area as a fraction of the image (CutMix-style).
        aspect: range of the block's width/height ratio.
        mode: ``random`` (random switch; survey) or ``rotate`` (rotation by one place).
        keep_channels: keep each field's mode (else grey maps become RGB).
    """

    name: ClassVar[str] = "multimodal.cut-switch"
    modalities: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, field: Sequence[str] = ("image", "image.depth"), area: Sequence[float] = (0.1, 0.5),
                 aspect: Sequence[float] = (0.5, 2.0), mode: str = "random", keep_channels: bool = True) -> None:
        fields = [field] if isinstance(field, str) else list(field)
        if len(fields) < 2 or len(set(fields)) != len(fields):
            raise ConfigError(f"multimodal.cut-switch needs two or more distinct fields, got {fields}")
        bad = [f for f in fields if not isinstance(f, str) or f.split(".", 1)[0] != "image"]
        if bad:
            raise ConfigError(f"multimodal.cut-switch fields must be image fields (image, image.depth...), got {bad}")
        self.field = fields
        self.area = _check_range("area", area, 0.0, 1.0)
        self.aspect = _check_range("aspect", aspect, 0.0, float("inf"))
        if mode not in MODES:
            raise ConfigError(f"multimodal.cut-switch mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.keep_channels = bool(keep_channels)

    def check(self, sample: Sample) -> None:
        super().check(sample)
        sizes = {f: tuple(sample.fields[f].size) for f in self.field}
        if len(set(sizes.values())) != 1:
            raise BadSample(f"multimodal.cut-switch needs aligned fields of one size, got {sizes}",
                            sample_id=sample.id, field=self.field[1])

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        w, h = sample.fields[self.field[0]].size
        box = sample_box(h, w, rng, self.area, self.aspect)
        if self.mode == "rotate":
            return {"box": box, "shift": 1}
        return {"box": box, "perm": random_permutation(len(self.field), rng)}

    def _perm(self, params: Mapping[str, Any]) -> list[int]:
        if "perm" in params:
            return [int(p) for p in params["perm"]]
        return rotation(len(self.field), int(params.get("shift", 1)))

    def reverse(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        """The input of :meth:`apply` from its output and the recorded params (inverse permutation)."""
        return self._switch(sample, params, undo=True)

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        return self._switch(sample, params, undo=False)

    def _switch(self, sample: Sample, params: Mapping[str, Any], undo: bool) -> Sample:
        w, h = sample.fields[self.field[0]].size
        box = [int(v) for v in params["box"]]
        if not (0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h):
            raise BadSample(f"recorded block {box} lies outside the {w}x{h} image",
                            sample_id=sample.id, field=self.field[0])
        arrays = [to_array(sample.fields[f]) for f in self.field]
        fn = unswitch if undo else cut_switch
        try:
            switched = fn(arrays, box, perm=self._perm(params), keep_channels=self.keep_channels)
        except ValueError as exc:
            raise BadSample(f"multimodal.cut-switch: {exc}", sample_id=sample.id, field=self.field[0]) from None
        return sample.derive(None, **{f: to_pil(a) for f, a in zip(self.field, switched, strict=True)})


__all__ = ["CutSwitch", "MODES"]
