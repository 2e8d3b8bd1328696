"""DDIM inversion (Diff-II, Sec. 3.2): run the deterministic DDIM sampler backwards.

Each training image is encoded by the VAE and carried from ``t=0`` to the last
timestep with ``diffusers.DDIMInverseScheduler`` under its class prompt (no
guidance), giving a noise latent that denoises back to (nearly) the image. The
inversions of a class form the pool that circle interpolation draws from.

Example:
    >>> InversionParams(steps=50).to_dict()
    {'steps': 50, 'resolution': 512}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .components import encode_images, encode_text


@dataclass(frozen=True)
class InversionParams:
    """Settings of DDIM inversion.

    Attributes:
        steps: inversion steps. Ours: 50, the schedule denoising uses by default, so an
            inversion denoised without interpolation comes back to (nearly) its image.
            The paper gives no number; its reference code inverts with 200 steps and
            denoises with 25.
        resolution: image size fed to the VAE.
    """

    steps: int = 50
    resolution: int = 512

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ddim_invert(pipe: Any, images: Sequence[Any], prompts: Sequence[str],
                params: InversionParams = InversionParams()) -> Any:
    """Inverted noise latents ``(N, C, h, w)`` of ``images`` under ``prompts`` (one per image)."""
    import torch
    from diffusers import DDIMInverseScheduler

    inverse = DDIMInverseScheduler.from_config(pipe.scheduler.config)
    inverse.set_timesteps(params.steps, device=pipe.unet.device)
    z = encode_images(pipe, images, params.resolution)
    with torch.no_grad():
        cond = encode_text(pipe, prompts).to(pipe.unet.dtype)
        z = z.to(pipe.unet.dtype)
        for t in inverse.timesteps:
            eps = pipe.unet(z, t, encoder_hidden_states=cond).sample
            z = inverse.step(eps, t, z).prev_sample
    return z.float().cpu()


__all__ = ["InversionParams", "ddim_invert"]
