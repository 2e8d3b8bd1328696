"""Recipe ``back-captioning``: image -> captions -> rewritten captions -> new images.

Back-Modality for images: caption each image ``l`` times with the class label
injected into the prompt (F, "a photo of a Persian cat ..."), rewrite each caption
``m`` times in text (H), draw ``n`` images from each rewrite with a text-to-image
model (G), and keep a uniform random sample of ``k`` of the ``l*m*n`` candidates
(paper: l=m=n=2, k=5).

The paper's H is gpt-3.5-turbo prompted "Maintain the nouns in the following
sentence intact and generate semantically diverse sentences."; that is
``rewriter="text.llm-rewrite"`` (whose default prompt it is) with a model or a
plugged-in client. Offline, the default H is ``text.eda`` told to keep what the
paper's prompt keeps: nouns and proper nouns (``protect_pos``) and the injected
label's words (``protect_label``), see :data:`EDA_DEFAULTS`.

Example:
    >>> r = BackCaptioning(rewriter="text.typo", caption_model="my/blip", image_model="my/sd")
    >>> r.fan_out, r.keep, [t.name for t in r.forward], r.augment[0].field
    ([2, 2, 2], 5, ['image.caption.blip'], 'text.caption')
    >>> rewriter_defaults("text.eda")
    {'protect_pos': ['NOUN', 'PROPN'], 'protect_label': True}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BackModality, Filter

from ._build import build, or_auto, or_unset

#: Parameters the offline H (``text.eda``) gets unless overridden: keep nouns and the label intact,
#: as the paper's prompt asks of its GPT rewrites.
EDA_DEFAULTS: dict[str, Any] = {"protect_pos": ["NOUN", "PROPN"], "protect_label": True}


def rewriter_defaults(rewriter: str | None) -> dict[str, Any]:
    """The parameters ``rewriter`` gets by default in back-captioning (``rewriter_params`` win)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in EDA_DEFAULTS.items()} \
        if rewriter == "text.eda" else {}


class BackCaptioning(BackModality):
    """Back-captioning with label-injected captions, text rewriting and text-to-image.

    Args:
        captioner: entry-point name of the captioning transform (F; ours: BLIP, the paper's is
            OFA, which has no transformers captioning class).
        caption_model: its model id or local path (``None``: the captioner's default, BLIP base).
        prompt: caption prefix with ``{label}`` (the paper's conditional captioning).
        caption_params: further parameters of the captioner (``mode``, ``top_p``, ...).
        rewriter: entry-point name of the text augmentation (H): ``text.eda`` (default,
            offline, nouns and label kept) or ``text.llm-rewrite`` (the paper's GPT
            rewriting, its prompt by default); ``None`` for no rewriting.
        rewriter_params: its parameters, over :func:`rewriter_defaults` (for ``text.eda``:
            ``protect_pos=["NOUN", "PROPN"]``, ``protect_label=True``; pass
            ``protect_pos=[]`` / ``protect_label=False`` to lift them).
        text_to_image: entry-point name of the text-to-image transform (G).
        image_model: its model id or local path (``None``: the transform's default, Stable
            Diffusion v1.5 (ours); the paper's Table 1 uses Stable Diffusion v2).
        image_params: further parameters (``num_inference_steps``, ``guidance_scale``, ``height``...).
        l, m, n: captions per image, rewrites per caption, images per rewrite (paper: 2, 2, 2).
        keep: candidates kept per input, sampled uniformly (paper: 5; ``None``: all).
        filters: filters scoring each candidate against its input (e.g. ``image.clip-score``).
        device: device for both models (``auto``, ``cpu``, ``cuda``...).
        dtype: dtype of both models (``auto``: half precision on a GPU, float32 on CPU).
        caption_field: field holding the (rewritten) caption in the outputs.
        keep_intermediate: keep ``caption_field`` in the outputs.
        top_up: extra rounds with new seed keys for inputs left with fewer than ``keep`` passing
            candidates (bounded; 0: none).
    """

    name: ClassVar[str] = "back-captioning"
    input_fields: ClassVar[tuple[str, ...]] = ("image",)

    def __init__(self, captioner: str = "image.caption.blip", caption_model: str | None = None,
                 prompt: str | None = "a photo of a {label}", caption_params: Mapping[str, Any] | None = None,
                 rewriter: str | None = "text.eda", rewriter_params: Mapping[str, Any] | None = None,
                 text_to_image: str = "image.text-to-image.diffusers", image_model: str | None = None,
                 image_params: Mapping[str, Any] | None = None, l: int = 2, m: int = 2, n: int = 2,
                 keep: int | None = 5, filters: Sequence[Filter] | None = None, device: str = "auto",
                 dtype: str = "auto",
                 caption_field: str = "text.caption", keep_intermediate: bool = True, top_up: int = 0) -> None:
        forward = build("transform", captioner, caption_params, model=or_unset(caption_model), prompt=prompt,
                        out_field=caption_field, device=device, dtype=or_auto(dtype))
        augment = (build("augmentation", rewriter, {**rewriter_defaults(rewriter), **dict(rewriter_params or {})},
                         field=caption_field) if rewriter else None)
        backward = build("transform", text_to_image, image_params, model=or_unset(image_model),
                         in_field=caption_field, out_field="image", device=device, dtype=or_auto(dtype))
        super().__init__(forward=forward, backward=backward, augment=augment, filters=filters,
                         fan_out=(l, m, n), keep=keep, keep_intermediate=keep_intermediate, top_up=top_up)
        self.captioner = captioner
        self.caption_model = caption_model
        self.prompt = prompt
        self.caption_params = dict(caption_params or {})
        self.rewriter = rewriter
        self.rewriter_params = dict(rewriter_params or {})
        self.text_to_image = text_to_image
        self.image_model = image_model
        self.image_params = dict(image_params or {})
        self.l, self.m, self.n = l, m, n
        self.device = device
        self.dtype = dtype
        self.caption_field = caption_field

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.param_names()}


__all__ = ["BackCaptioning", "EDA_DEFAULTS", "rewriter_defaults"]
