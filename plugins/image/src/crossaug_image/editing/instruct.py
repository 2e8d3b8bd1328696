"""Instruction editing with InstructPix2Pix (a UNet with 8 input channels) through ``diffusers``.

InstructPix2Pix (Brooks et al., 2023) edits an image by a written instruction ("make it
snowy"), guided twice: ``image_guidance_scale`` (s_I) pulls toward the input image and
``guidance_scale`` (s_T) toward the instruction; the paper's defaults are s_I = 1.5 and
s_T = 7.5. ALIA uses it as one of its editing methods.

Example:
    >>> t = InstructPix2PixEdit(prompt_field=None, prompt_template="make the {label} red")
    >>> t.row_settings(None, 0), t.generation_settings()["guidance_scale"]
    ({'image_guidance_scale': 1.5}, 7.5)
"""

from __future__ import annotations

from typing import Any, ClassVar

from crossaug import ConfigError, Sample

from .base import ImageEdit


class InstructPix2PixEdit(ImageEdit):
    """Edit an image by an instruction.

    Args:
        model: Hugging Face id or local directory of an InstructPix2Pix pipeline (default
            ``timbrooks/instruct-pix2pix``, the paper's release).
        revision: hub revision.
        image_guidance_scale: s_I, the pull toward the input image (default 1.5, the paper's).
        guidance_scale: s_T, the pull toward the instruction (``None``: 7.5, the paper's).
        prompt_field: text field holding the instruction (default ``text``; ``None`` when the
            template only uses ``{label}``).
        prompt_template: the instruction, from ``{text}`` and ``{label}`` (default ``{text}``).
        num_inference_steps, scheduler, negative_prompt, safety_checker, batch_size, device,
            dtype, allow_download, in_field, out_field: as ``image.img2img``.
    """

    name: ClassVar[str] = "image.instruct-edit"
    pipeline_class: ClassVar[str] = "StableDiffusionInstructPix2PixPipeline"
    default_guidance: ClassVar[float | None] = 7.5

    def __init__(self, model: str = "timbrooks/instruct-pix2pix", revision: str | None = None,
                 image_guidance_scale: float = 1.5, guidance_scale: float | None = None,
                 prompt_field: str | None = "text", prompt_template: str = "{text}",
                 num_inference_steps: int | None = None, scheduler: str | None = None,
                 negative_prompt: str | None = None, safety_checker: bool = True, batch_size: int = 4,
                 device: str = "auto", dtype: str = "auto", allow_download: bool = False,
                 in_field: str | None = None, out_field: str | None = None) -> None:
        if not isinstance(image_guidance_scale, (int, float)) or image_guidance_scale < 1.0:
            raise ConfigError(f"{self.name}: image_guidance_scale must be >= 1 (1 turns image guidance off), "
                              f"got {image_guidance_scale!r}")
        self.image_guidance_scale = float(image_guidance_scale)
        self._init_common(model, revision, prompt_field, prompt_template, num_inference_steps, guidance_scale,
                          scheduler, negative_prompt, safety_checker, batch_size, device, dtype, allow_download,
                          in_field, out_field)

    def row_settings(self, sample: Sample | None, seed: int) -> dict[str, Any]:
        return {"image_guidance_scale": self.image_guidance_scale}


__all__ = ["InstructPix2PixEdit"]
