"""The Stable Diffusion parts Diff-II works on: loading, prompt encoding, VAE encode/decode.

Every stage takes a diffusers Stable Diffusion pipeline (``unet``, ``vae``,
``text_encoder``, ``tokenizer``, ``scheduler``) loaded by :func:`load_pipeline`.

The paper's prompt is "a photo of a [V] [metaclass]" (Sec. 3), ``[V]`` the class's
learned concept token and ``[metaclass]`` the theme of the dataset ("bird" for CUB);
the suffixed prompt appends a context suffix (Sec. 3.3).

Example:
    >>> concept_token("Persian cat")
    '<persian-cat>'
    >>> class_prompt("Persian cat", "<persian-cat>", "in the snow", metaclass="animal")
    'a photo of a <persian-cat> animal in the snow'
    >>> class_prompt("Persian cat", None, metaclass="animal")  # no concept learned: the class name
    'a photo of a Persian cat animal'
    >>> class_prompt("Persian cat", "<persian-cat>")  # no metaclass given: the class name stands in
    'a photo of a <persian-cat> Persian cat'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._backend import diffusers_dtype_kwarg, no_progress, pick_device, pick_dtype, require
from .._models import locate

#: The paper's prompt, "a photo of a [V] [metaclass]" (``{label}`` may be used too).
TEMPLATE = "a photo of a {token} {metaclass}"


def concept_token(label: Any) -> str:
    """The placeholder token learned for a class (textual inversion's ``S*``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(label).lower()).strip("-") or "class"
    return f"<{slug}>"


def class_prompt(label: Any, token: str | None = None, suffix: str | None = None,
                 template: str = TEMPLATE, metaclass: str | None = None) -> str:
    """The class prompt from ``template`` (paper: ``a photo of a {token} {metaclass}``), plus `` suffix``.

    ``{token}`` is the concept token, or the class name when ``token`` is ``None``
    (no concept learned, the paper's templated-prompt baseline); ``{metaclass}`` is
    the dataset's metaclass, or, when none is given, the class name after a
    token and nothing after a class name (ours: so the class is named once);
    ``{label}`` is always the class name. The suffix is appended after a space,
    as the paper concatenates it.
    """
    name = str(label).replace("_", " ")
    meta = metaclass if metaclass is not None else (name if token else "")
    text = template.replace("{token}", token or name).replace("{metaclass}", meta).replace("{label}", name)
    text = " ".join(text.split())
    return f"{text} {suffix.strip()}" if suffix and suffix.strip() else text


def load_pipeline(model: str, revision: str | None = None, device: str = "auto", dtype: str = "auto",
                  allow_download: bool = False) -> Any:
    """A fresh ``StableDiffusionPipeline`` (no safety checker, no progress bars) by id or path.

    ``device`` and ``dtype`` follow the kernel's policy (:func:`crossaug.models.pick_dtype`:
    ``auto`` is half precision on a GPU, float32 on CPU).
    """
    require("torch")
    diffusers = require("diffusers")
    path = locate("diffusers", model, revision, allow_download)
    dev = pick_device(device)
    if dev == "cpu":
        from crossaug.precision import apply_torch_threads

        apply_torch_threads()
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(
        path, revision=revision, **diffusers_dtype_kwarg(pick_dtype(dtype, dev)), safety_checker=None,
        requires_safety_checker=False)
    return no_progress(pipe.to(dev))


def encode_text(pipe: Any, prompts: Sequence[str]) -> Any:
    """CLIP text-encoder hidden states for ``prompts`` (padded to the tokenizer's max length)."""
    import torch

    tok = pipe.tokenizer
    ids = tok(list(prompts), padding="max_length", max_length=tok.model_max_length, truncation=True,
              return_tensors="pt").input_ids.to(pipe.text_encoder.device)
    with torch.set_grad_enabled(torch.is_grad_enabled()):
        return pipe.text_encoder(ids)[0]


def images_to_tensor(images: Sequence[Any], resolution: int) -> Any:
    """PIL images -> ``(N, 3, res, res)`` float tensor in ``[-1, 1]`` (centre crop, then resize)."""
    import torch
    from PIL import Image

    arrs = []
    for img in images:
        img = img.convert("RGB")
        w, h = img.size
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        img = img.resize((resolution, resolution), Image.Resampling.BICUBIC)
        arrs.append(np.asarray(img, dtype=np.float32) / 127.5 - 1.0)
    return torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).contiguous()


def encode_images(pipe: Any, images: Sequence[Any], resolution: int) -> Any:
    """VAE latents (posterior mean times the scaling factor) of ``images``."""
    import torch

    x = images_to_tensor(images, resolution).to(pipe.vae.device, pipe.vae.dtype)
    with torch.no_grad():
        z = pipe.vae.encode(x).latent_dist.mean
    return z * pipe.vae.config.scaling_factor


def decode_latents(pipe: Any, latents: Any) -> list[Any]:
    """Latents -> RGB PIL images."""
    import torch
    from PIL import Image

    with torch.no_grad():
        x = pipe.vae.decode(latents.to(pipe.vae.dtype) / pipe.vae.config.scaling_factor).sample
    bad = [i for i, ok in enumerate(torch.isfinite(x.float()).flatten(1).all(1).tolist()) if not ok]
    if bad:  # a NaN would become a black pixel: never an image kept as training data
        from crossaug import BadSample

        raise BadSample(f"the model produced NaN or infinite pixels in image(s) {bad} of this batch "
                        f"(dtype {str(pipe.vae.dtype).removeprefix('torch.')}); try dtype='float32'")
    arr = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a, mode="RGB") for a in arr]


__all__ = ["load_pipeline", "encode_text", "encode_images", "decode_latents", "images_to_tensor",
           "concept_token", "class_prompt", "TEMPLATE"]
