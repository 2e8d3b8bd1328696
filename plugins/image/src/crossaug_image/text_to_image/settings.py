"""Generation settings of diffusion text-to-image: schedulers and per-model defaults.

Distilled models want very different settings from the Stable Diffusion defaults
(50 steps, guidance 7.5): SD-Turbo and SDXL-Turbo (adversarial diffusion distillation)
make an image in 1-4 steps with guidance off (0.0, their model cards); latent
consistency models (LCM) in 2-8 steps with their own scheduler. :func:`model_family`
tells them apart from the model id and the pipeline's configs (no weights read):

* ``turbo``: ``turbo`` in the model id or directory name -> 1 step, guidance 0.0, the
  pipeline's own scheduler (Euler, trailing spacing, as shipped);
* ``lcm``: ``lcm`` in the id, an ``LCMScheduler`` in the scheduler config, or a UNet with a
  guidance embedding (``time_cond_proj_dim``, LCM distillation) -> 4 steps, the LCM
  scheduler, guidance 8.5 for a distilled LCM (diffusers' default, fed to the guidance
  embedding) and 1.0 (off) for others such as LCM-LoRA merges;
* ``standard``: 50 steps (diffusers' default), guidance 7.5 (Stable Diffusion's), the
  pipeline's own scheduler.

Explicit ``num_inference_steps``, ``guidance_scale`` and ``scheduler`` always win.

Example:
    >>> model_family("stabilityai/sd-turbo"), model_family("SimianLuo/LCM_Dreamshaper_v7")
    ('turbo', 'lcm')
    >>> resolve_settings("stabilityai/sd-turbo", None, None, None)
    {'family': 'turbo', 'num_inference_steps': 1, 'guidance_scale': 0.0, 'scheduler': None}
    >>> resolve_settings("my/sd", 25, None, "dpm-solver++")["guidance_scale"]
    7.5
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crossaug import ConfigError

#: scheduler name -> (diffusers class, constructor overrides on top of the pipeline's config)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler-ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpm-solver++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "lcm": ("LCMScheduler", {}),
}
ALIASES = {"dpmsolver++": "dpm-solver++", "dpm++": "dpm-solver++", "dpm": "dpm-solver++",
           "euler-a": "euler-ancestral", "euler_a": "euler-ancestral"}

#: family -> (steps, guidance, scheduler); LCM's guidance depends on the UNet (see the module docstring)
DEFAULTS: dict[str, tuple[int, float, str | None]] = {
    "standard": (50, 7.5, None),
    "turbo": (1, 0.0, None),
    "lcm": (4, 1.0, "lcm"),
}
LCM_DISTILLED_GUIDANCE = 8.5


def check_scheduler(name: str | None) -> str | None:
    """The canonical scheduler name (``None``: the pipeline's own)."""
    if name is None:
        return None
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in SCHEDULERS:
        raise ConfigError(f"scheduler must be one of {', '.join(SCHEDULERS)} (or None for the pipeline's own), "
                          f"got {name!r}")
    return key


def read_configs(path: str | Path | None) -> dict[str, Any]:
    """``model_index``, ``scheduler`` and ``unet`` configs of a local diffusers directory (missing: empty)."""
    out: dict[str, Any] = {}
    if path is None or not Path(path).is_dir():
        return out
    for key, rel in (("model_index", "model_index.json"), ("scheduler", "scheduler/scheduler_config.json"),
                     ("unet", "unet/config.json")):
        f = Path(path) / rel
        if f.is_file():
            try:
                out[key] = json.loads(f.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
    return out


def model_family(model: str, configs: Mapping[str, Any] | None = None) -> str:
    """``turbo``, ``lcm`` or ``standard`` (see the module docstring)."""
    name = str(model).replace("\\", "/").rstrip("/").lower()
    configs = configs or {}
    if "turbo" in name:
        return "turbo"
    if ("lcm" in name or (configs.get("scheduler") or {}).get("_class_name") == "LCMScheduler"
            or (configs.get("unet") or {}).get("time_cond_proj_dim") is not None):
        return "lcm"
    return "standard"


def resolve_settings(model: str, num_inference_steps: int | None, guidance_scale: float | None,
                     scheduler: str | None, configs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Steps, guidance and scheduler for ``model``: explicit values, else its family's defaults."""
    family = model_family(model, configs)
    steps, guidance, sched = DEFAULTS[family]
    if family == "lcm" and ((configs or {}).get("unet") or {}).get("time_cond_proj_dim") is not None:
        guidance = LCM_DISTILLED_GUIDANCE
    return {"family": family,
            "num_inference_steps": steps if num_inference_steps is None else int(num_inference_steps),
            "guidance_scale": guidance if guidance_scale is None else float(guidance_scale),
            "scheduler": sched if scheduler is None else check_scheduler(scheduler)}


def make_scheduler(diffusers: Any, name: str, config: Any) -> Any:
    """A diffusers scheduler of kind ``name`` built from a pipeline's scheduler ``config``."""
    cls_name, overrides = SCHEDULERS[name]
    return getattr(diffusers, cls_name).from_config(config, **overrides)


__all__ = ["SCHEDULERS", "DEFAULTS", "check_scheduler", "model_family", "resolve_settings", "read_configs",
           "make_scheduler", "LCM_DISTILLED_GUIDANCE"]
