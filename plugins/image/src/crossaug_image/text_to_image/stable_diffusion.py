"""Text-to-image with Stable Diffusion pipelines through ``diffusers``.

G in back-captioning and F in back-imagination. The Back-Modality paper used
Stable Diffusion v2 (its Table 1); the default here, Stable Diffusion v1.5, is ours
(the most widely mirrored SD checkpoint); pass ``stabilityai/stable-diffusion-2-1-base``
or a v2 directory for the paper's family.
Any pipeline ``diffusers.AutoPipelineForText2Image`` can load works (SD 1.x/2.x,
SDXL, SD-Turbo, LCM ...), by hub id or local directory. Steps, guidance and scheduler
default per model family (see :mod:`.settings`: SD-Turbo 1 step without guidance); the
resolved values, the dtype and the model's snapshot hash go into each image's lineage.
Images the safety checker flags are rejected (reason ``nsfw``); NaN or infinite pixels
are an error of that sample.

Example:
    >>> t = StableDiffusionTextToImage(model="stabilityai/sd-turbo", scheduler="euler")
    >>> t.name, t.generation_settings()["num_inference_steps"], t.generation_settings()["guidance_scale"]
    ('image.text-to-image.diffusers', 1, 0.0)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, torch_generator

from .._pipeline import DiffusersPipeline
from .base import TextToImage
from .pixels import to_pil

log = logging.getLogger(__name__)


class StableDiffusionTextToImage(DiffusersPipeline, TextToImage):
    """Generate one image per (text, seed) with a diffusers text-to-image pipeline.

    Args:
        model: Hugging Face id or local directory of a diffusers pipeline (default
            ``stable-diffusion-v1-5/stable-diffusion-v1-5``; ours, the paper used SD v2).
        revision: hub revision.
        num_inference_steps: denoising steps (``None``: the model family's default, see
            :mod:`.settings`: 50 for Stable Diffusion, 1 for SD-Turbo, 4 for LCM).
        guidance_scale: classifier-free guidance weight (``None``: 7.5 for Stable Diffusion,
            0.0 for SD-Turbo, LCM's own).
        scheduler: ``ddim``, ``euler``, ``euler-ancestral``, ``dpm-solver++`` or ``lcm``
            (``None``: the pipeline's own; ``lcm`` for LCM models).
        height, width: output size in pixels (``None``: the model's default).
        negative_prompt: text to steer away from.
        prompt_template: prompt built from ``{text}`` (the input field) and ``{label}``.
        safety_checker: keep the pipeline's NSFW checker; flagged images are rejected with
            reason ``nsfw`` (the pipeline returns them black).
        batch_size: prompts per pipeline call.
        device: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (bfloat16/float16 on a GPU, float32 on CPU), ``float32``, ``float16``
            or ``bfloat16``.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``text`` -> ``image``).
    """

    name: ClassVar[str] = "image.text-to-image.diffusers"
    pipeline_class: ClassVar[str] = "AutoPipelineForText2Image"

    def __init__(self, model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5", revision: str | None = None,
                 num_inference_steps: int | None = None, guidance_scale: float | None = None,
                 scheduler: str | None = None, height: int | None = None,
                 width: int | None = None, negative_prompt: str | None = None, prompt_template: str = "{text}",
                 safety_checker: bool = True, batch_size: int = 4, device: str = "auto", dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None,
                 out_field: str | None = None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if num_inference_steps is not None and (not isinstance(num_inference_steps, int) or num_inference_steps < 1):
            raise ConfigError(f"{self.name}: num_inference_steps must be a positive integer or None")
        for side, v in (("height", height), ("width", width)):
            if v is not None and (not isinstance(v, int) or v < 8 or v % 8):
                raise ConfigError(f"{self.name}: {side} must be a multiple of 8 (>= 8), got {v!r}")
        if guidance_scale is not None and guidance_scale < 0:
            raise ConfigError(f"{self.name}: guidance_scale must be >= 0, got {guidance_scale}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        if "{text}" not in prompt_template:
            raise ConfigError(f"{self.name}: prompt_template must contain {{text}}, got {prompt_template!r}")
        self._init_pipeline(model, revision, num_inference_steps, guidance_scale, scheduler, negative_prompt,
                            safety_checker, batch_size, device, dtype, allow_download, in_field, out_field)
        self.height = height
        self.width = width
        self.prompt_template = prompt_template

    def generation_settings(self) -> dict[str, Any]:
        """The resolved generation settings: family, steps, guidance, scheduler, size, snapshot.

        Read from the model id and the configs on disk (no weights loaded); after
        :meth:`load`, also the device and dtype the pipeline runs in.
        """
        return self._settings(self.guidance_scale, height=self.height, width=self.width)

    def generate(self, prompts: Sequence[str], seeds: Sequence[int]) -> list[tuple[Any, dict[str, Any]]]:
        import torch

        pipe = self.pipeline
        settings = self.generation_settings()
        kwargs = self._pipeline_kwargs(settings, prompts, seeds)
        with torch.inference_mode():
            result = pipe(list(prompts), **kwargs)
        return self._outputs(pipe, result, settings, len(prompts))

    def _pipeline_kwargs(self, settings: dict[str, Any], prompts: Sequence[str],
                         seeds: Sequence[int]) -> dict[str, Any]:
        """The pipeline arguments of one call: steps, guidance, one generator per image, size, negative prompt."""
        kwargs: dict[str, Any] = {"num_inference_steps": settings["num_inference_steps"],
                                  "guidance_scale": settings["guidance_scale"],
                                  "generator": [torch_generator(int(s)) for s in seeds],
                                  "height": self.height, "width": self.width, "output_type": "np"}
        if self.negative_prompt:
            kwargs["negative_prompt"] = [self.negative_prompt] * len(prompts)
        return kwargs

    def _outputs(self, pipe: Any, result: Any, settings: dict[str, Any], count: int,
                 extra: dict[str, Any] | None = None) -> list[tuple[Any, dict[str, Any]]]:
        """``(PIL image, info)`` per image of a call: the recorded settings, ``extra``, the NSFW flag and
        ``nonfinite`` for NaN/inf pixels."""
        flags = getattr(result, "nsfw_content_detected", None) or [None] * count
        recorded = {k: settings[k] for k in ("num_inference_steps", "guidance_scale", "scheduler", "family",
                                             "snapshot")}
        recorded["scheduler"] = recorded["scheduler"] or type(pipe.scheduler).__name__
        out = []
        for arr, flag in zip(np.asarray(result.images), flags):
            info: dict[str, Any] = {**recorded, **(extra or {})}
            if flag is not None:
                info["nsfw"] = bool(flag)
            img, finite = to_pil(arr)
            if not finite:
                info["nonfinite"] = True
            out.append((img, info))
        return out


__all__ = ["StableDiffusionTextToImage"]
