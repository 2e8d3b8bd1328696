"""Recipe ``back-imagination``: text -> images -> (image augmentation) -> captions.

Back-Modality for text: imagine ``n`` images of each text with a text-to-image
model (F; images that come out black-and-white, tinted monochrome included, are
discarded and drawn again, a bounded number of times, recorded in lineage),
optionally augment each image ``m`` times (H: e.g. ``image.flip``; the paper uses
none), and caption each ``l`` times (G). The captions are the new texts;
candidates whose image stayed black-and-white are rejected by the
``image.grayscale`` filter, and a uniform random sample of ``keep`` (paper: 5) of
the rest is kept.

Example:
    >>> r = BackImagination(image_model="my/sd", caption_model="my/blip")
    >>> r.fan_out, [t.name for t in r.forward]
    ([2, 1, 2], ['image.text-to-image.resample-grayscale'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BackModality, Filter

from ..filters.grayscale import Grayscale
from ..text_to_image.resample import ResampleGrayscale
from ._build import build, or_auto, or_unset


class BackImagination(BackModality):
    """Back-imagination: captions of imagined images as new texts.

    Args:
        text_to_image: entry-point name of the text-to-image transform (F).
        image_model: its model id or local path (``None``: the transform's default, Stable
            Diffusion v1.5 (ours); the paper's Table 1 uses Stable Diffusion v2).
        image_params: further parameters (``num_inference_steps``, ``height``, ...).
        grayscale_threshold: ``image.grayscale`` score below which an image counts as
            black-and-white (ours: 0.02, two CIELAB chroma units off a single tint).
        grayscale_method: ``"tint"`` (grey and tinted monochrome) or ``"spread"`` (grey only).
        max_retries: redraws of a black-and-white image before giving up (then rejected).
        augmentation: entry-point name of an image augmentation (H), or ``None``.
        augmentation_params: its parameters.
        captioner: entry-point name of the captioning transform (G; ours: BLIP, the paper's is OFA).
        caption_model: its model id or local path (``None``: BLIP base).
        prompt: caption prefix (``{label}`` is filled with the sample's label); ``None``
            for unconditional captions (text labels such as "positive" rarely make a
            good image prompt).
        caption_params: further parameters of the captioner.
        n, m, l: images per text, augmentations per image, captions per image (paper: 2, -, 2;
            ``m=1`` as the paper applies no image augmentation).
        keep: candidates kept per input, sampled uniformly (paper: 5; ``None``: all). With
            ``n=l=2, m=1`` there are only 4 candidates, so all that pass are kept.
        filters: further filters (the grayscale filter is always applied first).
        device: device for both models.
        dtype: dtype of both models (``auto``: half precision on a GPU, float32 on CPU).
        image_field: field holding the imagined image in the outputs.
        keep_intermediate: keep ``image_field`` in the outputs.
        dedupe: reject a passing caption equal to another kept one of the same input (reason ``duplicate``).
        top_up: extra rounds with new seed keys for inputs left with fewer than ``keep`` passing
            candidates (bounded; 0: none).
    """

    name: ClassVar[str] = "back-imagination"
    input_fields: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, text_to_image: str = "image.text-to-image.diffusers", image_model: str | None = None,
                 image_params: Mapping[str, Any] | None = None, grayscale_threshold: float = 0.02,
                 max_retries: int = 3, grayscale_method: str = "tint", augmentation: str | None = None,
                 augmentation_params: Mapping[str, Any] | None = None, captioner: str = "image.caption.blip",
                 caption_model: str | None = None, prompt: str | None = None,
                 caption_params: Mapping[str, Any] | None = None, n: int = 2, m: int = 1, l: int = 2,
                 keep: int | None = 5, filters: Sequence[Filter] | None = None, device: str = "auto",
                 dtype: str = "auto",
                 image_field: str = "image.imagined", keep_intermediate: bool = True, dedupe: bool = False,
                 top_up: int = 0) -> None:
        t2i = build("transform", text_to_image, image_params, model=or_unset(image_model), in_field="text",
                    out_field=image_field, device=device, dtype=or_auto(dtype))
        forward = ResampleGrayscale(t2i, threshold=grayscale_threshold, max_retries=max_retries,
                                    method=grayscale_method)
        augment = (build("augmentation", augmentation, augmentation_params, field=image_field)
                   if augmentation else None)
        backward = build("transform", captioner, caption_params, model=or_unset(caption_model), prompt=prompt,
                         in_field=image_field, out_field="text", device=device, dtype=or_auto(dtype))
        grey = Grayscale(threshold=grayscale_threshold, field=image_field, method=grayscale_method)
        super().__init__(forward=forward, backward=backward, augment=augment,
                         filters=[grey, *(filters or [])], fan_out=(n, m, l), keep=keep,
                         keep_intermediate=keep_intermediate, dedupe=dedupe, top_up=top_up)
        self.filters_extra = list(filters or [])
        self.text_to_image = text_to_image
        self.image_model = image_model
        self.image_params = dict(image_params or {})
        self.grayscale_threshold = float(grayscale_threshold)
        self.max_retries = max_retries
        self.grayscale_method = grayscale_method
        self.augmentation = augmentation
        self.augmentation_params = dict(augmentation_params or {})
        self.captioner = captioner
        self.caption_model = caption_model
        self.prompt = prompt
        self.caption_params = dict(caption_params or {})
        self.n, self.m, self.l = n, m, l
        self.device = device
        self.dtype = dtype
        self.image_field = image_field

    def get_params(self) -> dict[str, Any]:
        params = {name: getattr(self, name) for name in self.param_names()}
        params["filters"] = self.filters_extra
        return params


__all__ = ["BackImagination"]
