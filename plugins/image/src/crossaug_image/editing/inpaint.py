"""Inpainting with Stable Diffusion (a UNet with 9 input channels) through ``diffusers``.

The region under a mask is re-generated under the prompt; BiAug (Wu et al., 2023) uses it
to change the attributes of a detected object. The mask comes from boxes
(``[x0, y0, x1, y1]`` lists in pixels or fractions of the image, in ``sample.meta`` or
a field) or from a mask image field (white = re-generate). Pixels outside the mask are the
input's exactly: the generated image is composited back over the input through the
mask (what diffusers' ``apply_overlay`` does), since the VAE round trip alone changes
every pixel. Boxes outside the image, empty boxes and empty masks are a ``BadSample``
naming the sample.

Example:
    >>> from PIL import Image
    >>> m = boxes_mask([[0.5, 0.0, 1.0, 0.5]], (8, 4), "fractions", "s1", "boxes")
    >>> m.size, m.getpixel((7, 0)), m.getpixel((0, 3))
    ((8, 4), 255, 0)
"""

from __future__ import annotations

from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Sample

from .base import ImageEdit

UNITS = ("pixels", "fractions")


def boxes_mask(boxes: Any, size: tuple[int, int], units: str, sample_id: str, field: str) -> Any:
    """An ``L`` mask of ``size`` (w, h), 255 inside the union of ``boxes``; bad boxes raise ``BadSample``."""
    from PIL import Image, ImageDraw

    w, h = size
    if not isinstance(boxes, (list, tuple)) or not boxes:
        raise BadSample(f"no boxes to inpaint (got {boxes!r})", sample_id=sample_id, field=field)
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for box in boxes:
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise BadSample(f"a box must be [x0, y0, x1, y1], got {box!r}", sample_id=sample_id, field=field)
        x0, y0, x1, y1 = (float(v) for v in box)
        if units == "fractions":
            x0, x1, y0, y1 = x0 * w, x1 * w, y0 * h, y1 * h
        if x0 < 0 or y0 < 0 or x1 > w or y1 > h:
            raise BadSample(f"box {list(box)} ({units}) lies outside the {w}x{h} image", sample_id=sample_id,
                            field=field)
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise BadSample(f"box {list(box)} ({units}) is empty (x1 <= x0 or y1 <= y0)", sample_id=sample_id,
                            field=field)
        draw.rectangle([round(x0), round(y0), round(x1) - 1, round(y1) - 1], fill=255)
    return mask


class StableDiffusionInpaint(ImageEdit):
    """Re-generate the masked region of an image under a prompt.

    Args:
        model: Hugging Face id or local directory of an inpainting pipeline (UNet with 9
            input channels; default ``stable-diffusion-v1-5/stable-diffusion-inpainting``, ours).
        revision: hub revision.
        boxes_field: key holding ``[x0, y0, x1, y1]`` boxes, read from ``sample.meta`` then
            the fields (default ``boxes``); ignored when ``mask_field`` is set.
        box_units: ``pixels`` (default) or ``fractions`` of the image's width and height.
        mask_field: image field holding the mask (white = re-generate; same size as the image).
        strength: noise level of the masked region (default 1.0, diffusers' default: fully
            re-generated).
        prompt_field, prompt_template: the prompt (as ``image.img2img``).
        num_inference_steps, guidance_scale, scheduler, negative_prompt, safety_checker,
            batch_size, device, dtype, allow_download, in_field, out_field: as ``image.img2img``.
    """

    name: ClassVar[str] = "image.inpaint"
    pipeline_class: ClassVar[str] = "StableDiffusionInpaintPipeline"

    def __init__(self, model: str = "stable-diffusion-v1-5/stable-diffusion-inpainting",
                 revision: str | None = None, boxes_field: str | None = "boxes", box_units: str = "pixels",
                 mask_field: str | None = None, strength: float = 1.0, prompt_field: str | None = "text",
                 prompt_template: str = "{text}", num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, scheduler: str | None = None,
                 negative_prompt: str | None = None, safety_checker: bool = True, batch_size: int = 4,
                 device: str = "auto", dtype: str = "auto", allow_download: bool = False,
                 in_field: str | None = None, out_field: str | None = None) -> None:
        if box_units not in UNITS:
            raise ConfigError(f"{self.name}: box_units must be one of {', '.join(UNITS)}, got {box_units!r}")
        if not boxes_field and not mask_field:
            raise ConfigError(f"{self.name}: give boxes_field or mask_field")
        if not isinstance(strength, (int, float)) or not 0.0 < float(strength) <= 1.0:
            raise ConfigError(f"{self.name}: strength must lie in (0, 1], got {strength!r}")
        self.boxes_field = boxes_field
        self.box_units = box_units
        self.mask_field = mask_field
        self.strength = float(strength)
        self._init_common(model, revision, prompt_field, prompt_template, num_inference_steps, guidance_scale,
                          scheduler, negative_prompt, safety_checker, batch_size, device, dtype, allow_download,
                          in_field, out_field)

    def mask_of(self, sample: Sample, image: Any) -> Any:
        """The binary ``L`` mask of ``sample`` (255 = re-generate), checked against the image."""
        import numpy as np

        if self.mask_field:
            mask = sample.fields.get(self.mask_field)
            if mask is None or not hasattr(mask, "convert"):
                raise BadSample(f"{self.name}: no mask image in field {self.mask_field!r}", sample_id=sample.id,
                                field=self.mask_field)
            if mask.size != image.size:
                raise BadSample(f"{self.name}: mask is {mask.size[0]}x{mask.size[1]} but the image is "
                                f"{image.size[0]}x{image.size[1]} (the mask lies outside the image)",
                                sample_id=sample.id, field=self.mask_field)
            mask = mask.convert("L").point(lambda v: 255 if v >= 128 else 0)
        else:
            key = str(self.boxes_field)
            boxes = sample.meta.get(key, sample.fields.get(key))
            try:
                mask = boxes_mask(boxes, image.size, self.box_units, sample.id, key)
            except BadSample as exc:
                raise BadSample(f"{self.name}: {exc.args[0]}", sample_id=sample.id, field=key) from None
        if not np.asarray(mask).any():
            raise BadSample(f"{self.name}: the mask is empty (nothing to inpaint)", sample_id=sample.id,
                            field=self.mask_field or self.boxes_field)
        return mask

    def row_settings(self, sample: Sample, seed: int) -> dict[str, Any]:
        return {"strength": self.strength}

    def row_inputs(self, sample: Sample, image: Any, settings: dict[str, Any]) -> dict[str, Any]:
        return {"mask_image": self.mask_of(sample, image)}

    def call_kwargs(self, images: list[Any], row: dict[str, Any]) -> dict[str, Any]:
        w, h = images[0].size
        return {"image": images, "height": h - h % 8, "width": w - w % 8}

    def finish(self, sample: Sample, image: Any, out: Any, extra: dict[str, Any]) -> Any:
        from PIL import Image

        return Image.composite(out, image, extra["mask_image"])  # outside the mask: the input's pixels


__all__ = ["StableDiffusionInpaint", "boxes_mask", "UNITS"]
