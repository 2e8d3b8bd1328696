"""Image-to-image with Stable Diffusion (SDEdit) through ``diffusers``.

SDEdit (Meng et al., 2022) noises the input's latents to the level ``strength`` of the
schedule and denoises them under the prompt: low strength keeps layout and identity, high
strength follows the prompt. DA-Fusion (Trabucco et al., 2023) and ALIA (Dunlap et al.,
2023) augment with it at random strengths; here ``strength`` is a fixed value or a
``[low, high]`` range sampled per candidate from its seed and recorded in lineage.

Both ends are exact by construction and pinned by the tests:

* a strength that leaves no denoising step (``int(steps * strength) == 0``, strength 0
  included) returns the input unchanged, without the VAE round trip;
* strength 1 generates from pure noise with the text-to-image pipeline of the same
  components (UNet, VAE, text encoder, scheduler), so it equals
  ``image.text-to-image.diffusers`` from the same seed and settings. diffusers' img2img
  at strength 1 would still mix ``sqrt(alpha_bar_T)`` of the input into the start latents
  and draw its noise after the VAE's posterior sample.

Example:
    >>> t = StableDiffusionImg2Img(model="stable-diffusion-v1-5/stable-diffusion-v1-5", strength=[0.3, 0.7])
    >>> s = t.row_settings(None, 0)["strength"]; 0.3 <= s <= 0.7
    True
    >>> t.row_settings(None, 0) == t.row_settings(None, 0)
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import ConfigError, Sample, torch_generator

from .._backend import no_progress
from .base import ImageEdit


def check_strength(name: str, strength: Any) -> tuple[float, float]:
    """``strength`` as a ``(low, high)`` pair in ``[0, 1]`` (a number gives ``(v, v)``)."""
    if isinstance(strength, (int, float)) and not isinstance(strength, bool):
        lo = hi = float(strength)
    elif isinstance(strength, (list, tuple)) and len(strength) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in strength):
        lo, hi = float(strength[0]), float(strength[1])
    else:
        raise ConfigError(f"{name}: strength must be a number or a [low, high] pair, got {strength!r}")
    if not 0.0 <= lo <= hi <= 1.0:
        raise ConfigError(f"{name}: strength must satisfy 0 <= low <= high <= 1, got {strength!r}")
    return lo, hi


class StableDiffusionImg2Img(ImageEdit):
    """Re-generate an image under a prompt from a partially noised copy of it (SDEdit).

    Args:
        model: Hugging Face id or local directory of a Stable Diffusion pipeline (default
            ``stable-diffusion-v1-5/stable-diffusion-v1-5``; ours, the most widely mirrored;
            DA-Fusion used SD v1.4).
        revision: hub revision.
        strength: noise level in ``[0, 1]``, a number or a ``[low, high]`` range sampled
            uniformly per candidate (default ``[0.3, 0.7]``; ours, around DA-Fusion's 0.5).
        prompt_field: text field filling ``{text}`` (default ``text``; ``None`` when the
            template only uses ``{label}``).
        prompt_template: the prompt, from ``{text}`` and ``{label}`` (default ``{text}``).
        num_inference_steps, guidance_scale, scheduler: as ``image.text-to-image.diffusers``
            (per model family; 50 steps and guidance 7.5 for Stable Diffusion). Steps run:
            ``int(num_inference_steps * strength)``.
        negative_prompt: text to steer away from.
        safety_checker: keep the pipeline's NSFW checker; flagged images are rejected (``nsfw``).
        batch_size: images per pipeline call (rows with equal strength and size share a call).
        device, dtype: the kernel's policy (``auto``: cuda, mps, then cpu; half precision on GPUs).
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``image``).
    """

    name: ClassVar[str] = "image.img2img"
    pipeline_class: ClassVar[str] = "StableDiffusionImg2ImgPipeline"

    def __init__(self, model: str = "stable-diffusion-v1-5/stable-diffusion-v1-5", revision: str | None = None,
                 strength: float | Sequence[float] = (0.3, 0.7), prompt_field: str | None = "text",
                 prompt_template: str = "{text}", num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, scheduler: str | None = None,
                 negative_prompt: str | None = None, safety_checker: bool = True, batch_size: int = 4,
                 device: str = "auto", dtype: str = "auto", allow_download: bool = False,
                 in_field: str | None = None, out_field: str | None = None) -> None:
        lo, hi = check_strength(self.name, strength)
        self.strength = lo if lo == hi else [lo, hi]
        self._init_common(model, revision, prompt_field, prompt_template, num_inference_steps, guidance_scale,
                          scheduler, negative_prompt, safety_checker, batch_size, device, dtype, allow_download,
                          in_field, out_field)
        self._t2i: Any = None

    def row_settings(self, sample: Sample | None, seed: int) -> dict[str, Any]:
        lo, hi = check_strength(self.name, self.strength)
        value = lo if lo == hi else float(np.random.default_rng([int(seed), 0x5D1]).uniform(lo, hi))
        return {"strength": round(value, 4)}

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_t2i"] = None
        return state

    def close(self) -> None:
        super().close()
        self._t2i = None

    def describe(self, row: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
        return {"denoising_steps": int(settings["num_inference_steps"] * row["strength"])}

    def text_to_image_pipeline(self) -> Any:
        """The text-to-image pipeline sharing this pipeline's components (strength 1)."""
        if getattr(self, "_t2i", None) is None:
            import diffusers

            self._t2i = no_progress(diffusers.StableDiffusionPipeline.from_pipe(self.pipeline))
        return self._t2i

    def shortcut(self, sample: Sample, image: Any, prompt: str, settings: dict[str, Any], seed: int) -> Any | None:
        steps = self.generation_settings()["num_inference_steps"]
        if int(steps * settings["strength"]) == 0:  # no denoising step: the input itself
            return image.copy()
        return None

    def _run(self, samples: Sequence[Sample], images: list[Any], prompts: list[str], rows: list[dict[str, Any]],
             extras: list[dict[str, Any]], seeds: list[int], settings: dict[str, Any]) -> list[tuple[Any, Any]]:
        if rows[0]["strength"] < 1.0:
            return super()._run(samples, images, prompts, rows, extras, seeds, settings)
        import torch

        t2i = self.text_to_image_pipeline()  # same components, pure-noise start
        w, h = images[0].size
        kwargs: dict[str, Any] = {"num_inference_steps": settings["num_inference_steps"],
                                  "guidance_scale": settings["guidance_scale"], "output_type": "np",
                                  "generator": [torch_generator(int(s)) for s in seeds],
                                  "height": h - h % 8, "width": w - w % 8}
        if self.negative_prompt:
            kwargs["negative_prompt"] = [self.negative_prompt] * len(prompts)
        with torch.inference_mode():
            result = t2i(list(prompts), **kwargs)
        flags = getattr(result, "nsfw_content_detected", None) or [None] * len(prompts)
        return list(zip(np.asarray(result.images), flags))


__all__ = ["StableDiffusionImg2Img", "check_strength"]
