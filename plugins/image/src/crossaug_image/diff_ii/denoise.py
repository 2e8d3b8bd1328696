"""Two-stage denoising (Diff-II, Sec. 3.3): a suffixed prompt early, the plain prompt late.

The first ``ceil(split * steps)`` DDIM steps use ``a photo of a <token> class, <suffix>``
(layout and context come from the suffix: "in the snow", "on a sofa"), the rest
use the plain class prompt so that fine details follow the learned concept.

Example:
    >>> stage_schedule(10, 0.3)
    [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .components import decode_latents, encode_text


@dataclass(frozen=True)
class DenoiseParams:
    """Settings of two-stage denoising.

    Attributes:
        steps: DDIM steps (SD default 50).
        guidance_scale: classifier-free guidance weight.
        split: fraction of the steps that use the suffixed prompt (0: plain prompt only).
    """

    steps: int = 50
    guidance_scale: float = 7.5
    split: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stage_schedule(steps: int, split: float) -> list[int]:
    """Per step: 0 = suffixed prompt, 1 = plain prompt."""
    if not 0.0 <= split <= 1.0:
        raise ValueError(f"split must lie in [0, 1], got {split}")
    first = math.ceil(split * steps)
    return [0] * first + [1] * (steps - first)


def two_stage_denoise(pipe: Any, latents: Any, suffixed: Sequence[str], plain: Sequence[str],
                      params: DenoiseParams = DenoiseParams(), return_latents: bool = False) -> Any:
    """Denoise ``latents`` (one row per prompt pair) and decode them to PIL images.

    Returns:
        ``(images, schedule)``, where ``schedule`` records which prompt (0 suffixed, 1
        plain) each step used; with ``return_latents`` the final latents are returned too.
    """
    import torch
    from diffusers import DDIMScheduler

    sched = DDIMScheduler.from_config(pipe.scheduler.config)
    sched.set_timesteps(params.steps, device=pipe.unet.device)
    schedule = stage_schedule(len(sched.timesteps), params.split)
    unet = pipe.unet
    n = latents.shape[0]
    with torch.no_grad():
        uncond = encode_text(pipe, [""] * n).to(unet.dtype)
        conds = [encode_text(pipe, list(suffixed)).to(unet.dtype), encode_text(pipe, list(plain)).to(unet.dtype)]
        z = latents.to(unet.device, unet.dtype) * sched.init_noise_sigma
        guided = params.guidance_scale > 1.0
        for t, stage in zip(sched.timesteps, schedule):
            zin = sched.scale_model_input(z, t)
            if guided:
                eps = unet(torch.cat([zin, zin]), t, encoder_hidden_states=torch.cat([uncond, conds[stage]])).sample
                eps_u, eps_c = eps.chunk(2)
                eps = eps_u + params.guidance_scale * (eps_c - eps_u)
            else:
                eps = unet(zin, t, encoder_hidden_states=conds[stage]).sample
            z = sched.step(eps, t, z, eta=0.0).prev_sample
    images = decode_latents(pipe, z)
    return (images, schedule, z.float().cpu()) if return_latents else (images, schedule)


__all__ = ["DenoiseParams", "stage_schedule", "two_stage_denoise"]
