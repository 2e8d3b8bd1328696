"""Text-to-image with Stable Diffusion pipelines through ``diffusers``.

G in back-captioning and F in back-imagination. The Back-Modality paper used
Stable Diffusion v2 (its Table 1); the default here, Stable Diffusion v1.5, is ours
(the most widely mirrored SD checkpoint); pass ``stabilityai/stable-diffusion-2-1-base``
or a v2 directory for the paper's family.
Any pipeline ``diffusers.AutoPipelineForText2Image`` can load works (SD 1.x/2.x,
SDXL, ...), by hub id or local directory.

Example:
    >>> t = StableDiffusionTextToImage(num_inference_steps=25, guidance_scale=7.5)
    >>> t.name, t.source, t.target
    ('image.text-to-image.diffusers', 'text', 'image')
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import ConfigError, torch_generator

from .._backend import check_device, check_dtype, diffusers_dtype_kwarg, no_progress, pick_device, pick_dtype, require
from .._models import locate
from .base import TextToImage

log = logging.getLogger(__name__)


class StableDiffusionTextToImage(TextToImage):
    """Generate one image per (text, seed) with a diffusers text-to-image pipeline.

    Args:
        model: Hugging Face id or local directory of a diffusers pipeline (default
            ``stable-diffusion-v1-5/stable-diffusion-v1-5``; ours, the paper used SD v2).
        revision: hub revision.
        num_inference_steps: denoising steps (diffusers default 50).
        guidance_scale: classifier-free guidance weight (SD default 7.5).
        height, width: output size in pixels (``None``: the model's default).
        negative_prompt: text to steer away from.
        prompt_template: prompt built from ``{text}`` (the input field) and ``{label}``.
        safety_checker: keep the pipeline's NSFW checker (flagged images come back black).
        batch_size: prompts per pipeline call.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (float16 on CUDA), ``float32``, ``float16`` or ``bfloat16``.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``text`` -> ``image``).
    """

    name: ClassVar[str] = "image.text-to-image.diffusers"

    def __init__(self, model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5", revision: str | None = None,
                 num_inference_steps: int = 50, guidance_scale: float = 7.5, height: int | None = None,
                 width: int | None = None, negative_prompt: str | None = None, prompt_template: str = "{text}",
                 safety_checker: bool = True, batch_size: int = 4, device: str = "auto", dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if not isinstance(num_inference_steps, int) or num_inference_steps < 1:
            raise ConfigError(f"{self.name}: num_inference_steps must be a positive integer")
        for side, v in (("height", height), ("width", width)):
            if v is not None and (not isinstance(v, int) or v < 8 or v % 8):
                raise ConfigError(f"{self.name}: {side} must be a multiple of 8 (>= 8), got {v!r}")
        if guidance_scale < 0:
            raise ConfigError(f"{self.name}: guidance_scale must be >= 0, got {guidance_scale}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        if "{text}" not in prompt_template:
            raise ConfigError(f"{self.name}: prompt_template must contain {{text}}, got {prompt_template!r}")
        self.model = model
        self.revision = revision
        self.num_inference_steps = num_inference_steps
        self.guidance_scale = float(guidance_scale)
        self.height = height
        self.width = width
        self.negative_prompt = negative_prompt
        self.prompt_template = prompt_template
        self.safety_checker = bool(safety_checker)
        self.batch_size = batch_size
        self.device = check_device(device)
        self.dtype = check_dtype(dtype)
        self.allow_download = bool(allow_download)
        self.in_field = in_field
        self.out_field = out_field
        self._pipe: Any = None


    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pipe"] = None
        return state

    def close(self) -> None:
        self._pipe = None

    def load(self) -> None:
        require("torch")
        diffusers = require("diffusers")
        path = locate("diffusers", self.model, self.revision, self.allow_download)
        device = pick_device(self.device)
        kwargs: dict[str, Any] = {**diffusers_dtype_kwarg(pick_dtype(self.dtype, device)), "revision": self.revision}
        if not self.safety_checker:
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        pipe = diffusers.AutoPipelineForText2Image.from_pretrained(path, **kwargs)
        self._pipe = no_progress(pipe.to(device))

    @property
    def pipeline(self) -> Any:
        """The loaded diffusers pipeline (loaded on first access)."""
        if self._pipe is None:
            self.load()
        return self._pipe

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[tuple[Any, dict[str, Any]]]:
        import torch

        pipe = self.pipeline
        gens = [torch_generator(int(s)) for s in seeds]
        kwargs: dict[str, Any] = {"num_inference_steps": self.num_inference_steps,
                                  "guidance_scale": self.guidance_scale, "generator": gens,
                                  "height": self.height, "width": self.width, "output_type": "pil"}
        if self.negative_prompt:
            kwargs["negative_prompt"] = [self.negative_prompt] * len(prompts)
        with torch.inference_mode():
            result = pipe(list(prompts), **kwargs)
        flags = getattr(result, "nsfw_content_detected", None) or [None] * len(prompts)
        out = []
        for img, flag in zip(result.images, flags):
            info: dict[str, Any] = {}
            if flag is not None:
                info["nsfw"] = bool(flag)
            out.append((img.convert("RGB"), info))
        return out


__all__ = ["StableDiffusionTextToImage"]
