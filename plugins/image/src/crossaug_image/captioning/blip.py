"""BLIP captioning through ``transformers`` (``BlipForConditionalGeneration``).

The default captioner of back-captioning (F) and back-imagination (G). The
Back-Modality paper used OFA (its Table 1), which has no ``transformers``
captioning class; BLIP is ours, a widely available conditional captioner.

Example:
    >>> t = BlipCaptioner(model="Salesforce/blip-image-captioning-base", prompt="a photo of a {label}")
    >>> t.to_dict()["params"]["mode"], t.output_field
    ('sample', 'text')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from .base import Captioner


class BlipCaptioner(Captioner):
    """Caption images with BLIP; conditional on a label-filled prompt.

    Args:
        model: Hugging Face id or local directory of a BLIP captioning model
            (default: ``Salesforce/blip-image-captioning-base``; ours, the paper used OFA).
        revision: hub revision.
        prompt: caption prefix with ``{label}``; ``None`` for unconditional captions.
        mode: ``sample`` (seeded nucleus sampling), ``beam`` or ``greedy``.
        num_captions: captions generated per image; all are recorded in lineage.
        max_new_tokens: caption length limit.
        min_new_tokens: tokens generated before the end token is allowed (no empty captions).
        temperature, top_k, top_p: sampling settings (ours: nucleus sampling, p=0.9, so the
            ``l`` captions of an image differ; the paper gives no decoding settings).
        num_beams: beams in ``beam`` mode.
        batch_size: images per forward pass.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (float16 on CUDA), ``float32``, ``float16`` or ``bfloat16``.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``text``).
    """

    name: ClassVar[str] = "image.caption.blip"
    default_model: ClassVar[str] = "Salesforce/blip-image-captioning-base"

    def __init__(self, model: str = "Salesforce/blip-image-captioning-base", revision: str | None = None,
                 prompt: str | None = "a photo of a {label}", mode: str = "sample", num_captions: int = 1,
                 max_new_tokens: int = 30, min_new_tokens: int = 1, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 0.9, num_beams: int = 3, batch_size: int = 8, device: str = "auto",
                 dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        self._init_common(model, revision, prompt, mode, num_captions, max_new_tokens, min_new_tokens,
                          temperature, top_k, top_p, num_beams, batch_size, device, dtype, allow_download,
                          in_field, out_field)

    def load(self) -> None:
        tf, path, device, dtype = self._transformers_source()
        self._processor = tf.AutoProcessor.from_pretrained(path, revision=self.revision)
        self._model = tf.BlipForConditionalGeneration.from_pretrained(path, revision=self.revision,
                                                                      dtype=dtype).to(device).eval()

    def prompt_length(self, prompt: str | None) -> int:
        if prompt is None:
            return -1
        return len(self._processor.tokenizer(prompt)["input_ids"])

    def generate(self, images: Sequence[Any], prompts: Sequence[str | None], generators: Sequence[Any] | None,
                 num_return: int) -> list[list[str]]:
        import torch

        model, proc = self._model, self._processor
        kwargs: dict[str, Any] = {"images": list(images), "return_tensors": "pt"}
        if prompts and prompts[0] is not None:
            kwargs["text"] = list(prompts)
        inputs = proc(**kwargs)
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        gen = self._generate_kwargs(generators, num_return)
        with torch.inference_mode():
            out = model.generate(**inputs, **gen)
        return self._per_image(proc.batch_decode(out, skip_special_tokens=True), len(images), num_return)


__all__ = ["BlipCaptioner"]
