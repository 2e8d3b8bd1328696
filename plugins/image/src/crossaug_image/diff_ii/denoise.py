"""Two-stage denoising (Diff-II, Sec. 3.3, eq. 8): a suffixed prompt early, the plain prompt late.

The first ``ceil(split * steps)`` DDIM steps (the noisiest) use the suffixed prompt
"a photo of a [V] [metaclass] [suffix]" (layout and context come from the suffix:
"in the snow", "on a sofa"), the rest the plain prompt so that fine details follow
the learned concept. The paper's split ratio is 0.3 for 5-shot, 0.1 for 10-shot
and 1.0 for long-tailed sets (Sec. 4.1, 4.2); :func:`paper_split` picks among them
from the number of images per class.

Example:
    >>> stage_schedule(10, 0.3)
    [0, 0, 0, 1, 1, 1, 1, 1, 1, 1]
    >>> paper_split({"a": 5, "b": 5}), paper_split({"a": 10, "b": 10}), paper_split({"a": 40, "b": 2})
    (0.3, 0.1, 1.0)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .components import decode_latents, encode_text


@dataclass(frozen=True)
class DenoiseParams:
    """Settings of two-stage denoising.

    Attributes:
        steps: DDIM steps (ours: 50, the usual Stable Diffusion DDIM schedule; the paper
            gives none, its reference code denoises with 25).
        guidance_scale: classifier-free guidance weight (7.5, as the reference code).
        split: fraction of the steps that use the suffixed prompt (0: plain prompt only;
            paper: 0.3 for 5-shot sets, see :func:`paper_split`).
    """

    steps: int = 50
    guidance_scale: float = 7.5
    split: float = 0.3

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The paper's split ratios (Sec. 4.1 few-shot, Sec. 4.2 long-tail).
SPLIT_5_SHOT, SPLIT_10_SHOT, SPLIT_LONG_TAIL = 0.3, 0.1, 1.0
#: Ours: a set whose largest class has at least this many times the images of its
#: smallest is treated as long-tailed (the paper's long-tail sets have imbalance 10 to 100).
LONG_TAIL_IMBALANCE = 3.0
#: Ours: up to this many images per class (median) counts as the 5-shot setting, above as 10-shot.
FEW_SHOT_CUTOFF = 7


def paper_split(images_per_class: Mapping[str, int]) -> float:
    """The paper's split ratio for a training set with these class sizes.

    Long-tailed (largest / smallest class >= :data:`LONG_TAIL_IMBALANCE`): 1.0;
    otherwise the median class size picks the nearer few-shot setting: up to
    :data:`FEW_SHOT_CUTOFF` images 0.3 (5-shot), more 0.1 (10-shot and up).
    """
    counts = [int(c) for c in images_per_class.values() if int(c) > 0]
    if not counts:
        raise ValueError("paper_split needs at least one non-empty class")
    if max(counts) >= LONG_TAIL_IMBALANCE * min(counts):
        return SPLIT_LONG_TAIL
    return SPLIT_5_SHOT if statistics.median(counts) <= FEW_SHOT_CUTOFF else SPLIT_10_SHOT


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


__all__ = ["DenoiseParams", "stage_schedule", "two_stage_denoise", "paper_split", "SPLIT_5_SHOT",
           "SPLIT_10_SHOT", "SPLIT_LONG_TAIL", "LONG_TAIL_IMBALANCE", "FEW_SHOT_CUTOFF"]
