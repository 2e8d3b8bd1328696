"""Shared machinery of the image-conditioned diffusion transforms (img2img, inpaint, instruct-edit).

An :class:`ImageEdit` reads an image and a prompt (from a text field, or a template filled
with the sample's label), runs a diffusers pipeline with one ``torch.Generator`` per item
seeded from that item's seed, and writes the edited image. Rows that share a size and
their per-row call settings (strength, guidance) share one pipeline call; an image never
depends on its batch mates. Steps, guidance and scheduler resolve like text-to-image's
(:mod:`crossaug_image.text_to_image.settings`); the resolved values go into lineage.
NaN or infinite pixels are an error of that sample; images the safety checker flags are
rejected with reason ``nsfw``.

Example:
    >>> make_prompt("{text}, high quality", "a cat", None)
    'a cat, high quality'
    >>> make_prompt("a photo of a {label}", None, "tabby_cat")
    'a photo of a tabby cat'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Produced, Sample, Transform, torch_generator

from .._pipeline import DiffusersPipeline
from ..text_to_image.base import NSFW_REASON, fill_template, nonfinite_pixels
from ..text_to_image.pixels import to_pil


def make_prompt(template: str, text: str | None, label: Any) -> str:
    """The prompt of one sample: ``template`` with ``{text}`` and ``{label}`` filled."""
    return fill_template(template, text or "", label)


class ImageEdit(DiffusersPipeline, Transform):
    """Base class of image -> image diffusion transforms (``source="image"``, ``target="image"``).

    Subclasses set ``name``, ``pipeline_class`` and implement :meth:`row_settings` (the
    per-row call settings, recorded) and optionally :meth:`row_inputs` (extra per-row
    pipeline inputs such as a mask) and :meth:`finish` (post-processing of one output).
    """

    source: ClassVar[str] = "image"
    target: ClassVar[str] = "image"
    #: default classifier-free guidance when the model family gives none of its own
    default_guidance: ClassVar[float | None] = None

    def _init_common(self, model: str, revision: str | None, prompt_field: str | None, prompt_template: str,
                     num_inference_steps: int | None, guidance_scale: float | None, scheduler: str | None,
                     negative_prompt: str | None, safety_checker: bool, batch_size: int, device: str,
                     dtype: str, allow_download: bool, in_field: str | None, out_field: str | None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if num_inference_steps is not None and (not isinstance(num_inference_steps, int) or num_inference_steps < 1):
            raise ConfigError(f"{self.name}: num_inference_steps must be a positive integer or None")
        if guidance_scale is not None and guidance_scale < 0:
            raise ConfigError(f"{self.name}: guidance_scale must be >= 0, got {guidance_scale}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(prompt_template, str):
            raise ConfigError(f"{self.name}: prompt_template must be a string, got {prompt_template!r}")
        if "{text}" in prompt_template and not prompt_field:
            raise ConfigError(f"{self.name}: prompt_template uses {{text}} but prompt_field is None")
        self._init_pipeline(model, revision, num_inference_steps, guidance_scale, scheduler, negative_prompt,
                            safety_checker, batch_size, device, dtype, allow_download, in_field, out_field)
        self.prompt_field = prompt_field
        self.prompt_template = prompt_template

    # -- settings and loading -------------------------------------------------
    def generation_settings(self) -> dict[str, Any]:
        """Resolved steps, guidance, scheduler and snapshot (read from configs on disk, no weights)."""
        guidance = self.guidance_scale if self.guidance_scale is not None else self.default_guidance
        return self._settings(guidance)

    # -- per-row hooks ----------------------------------------------------------
    def row_settings(self, sample: Sample, seed: int) -> dict[str, Any]:
        """Per-row call settings (JSON values, recorded in lineage); rows with equal ones share a call."""
        return {}

    def row_inputs(self, sample: Sample, image: Any, settings: dict[str, Any]) -> dict[str, Any]:
        """Extra per-row pipeline inputs (lists are gathered across the rows of a call)."""
        return {}

    def shortcut(self, sample: Sample, image: Any, prompt: str, settings: dict[str, Any],
                 seed: int) -> Any | None:
        """An output computed without this pipeline (e.g. strength 0), or ``None``."""
        return None

    def describe(self, row: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
        """More to record in lineage for a row (e.g. the denoising steps a strength leaves)."""
        return {}

    def finish(self, sample: Sample, image: Any, out: Any, extra: dict[str, Any]) -> Any:
        """Post-process one generated image (e.g. paste the unmasked input back)."""
        return out

    # -- the batch --------------------------------------------------------------
    def prompt_of(self, sample: Sample) -> str:
        text = None
        if "{text}" in self.prompt_template:
            text = sample.fields.get(self.prompt_field) if self.prompt_field else None
            if not isinstance(text, str) or not text.strip():
                raise BadSample(f"{self.name}: the prompt field {self.prompt_field!r} is missing or empty "
                                f"(prompt_template {self.prompt_template!r} uses {{text}})",
                                sample_id=sample.id, field=self.prompt_field)
        if "{label}" in self.prompt_template and (sample.label is None or not str(sample.label).strip()):
            raise BadSample(f"{self.name}: prompt_template {self.prompt_template!r} uses {{label}} but the sample "
                            "has no label", sample_id=sample.id, field=self.prompt_field)
        prompt = make_prompt(self.prompt_template, text, sample.label)
        if not prompt:
            raise BadSample(f"{self.name}: the prompt is empty (template {self.prompt_template!r})",
                            sample_id=sample.id, field=self.prompt_field)
        return prompt

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        images = [s[self.input_field].convert("RGB") for s in samples]
        prompts = [self.prompt_of(s) for s in samples]
        rows = [self.row_settings(s, seed) for s, seed in zip(samples, seeds)]
        extras = [self.row_inputs(s, img, r) for s, img, r in zip(samples, images, rows)]
        settings = self.generation_settings()
        recorded = {k: settings[k] for k in ("num_inference_steps", "guidance_scale", "scheduler", "family",
                                             "snapshot")}
        results: list[Any] = [None] * len(samples)
        groups: dict[str, list[int]] = {}
        for i, (s, img, p, r, seed) in enumerate(zip(samples, images, prompts, rows, seeds)):
            short = self.shortcut(s, img, p, r, seed)
            if short is not None:
                results[i] = Produced(short, {"prompt": p, **recorded, **r, **self.describe(r, settings),
                                              "shortcut": True})
                continue
            groups.setdefault(repr((img.size, sorted(r.items()))), []).append(i)
        for idx in groups.values():
            outs = self._run(samples, [images[i] for i in idx], [prompts[i] for i in idx], [rows[i] for i in idx],
                             [extras[i] for i in idx], [seeds[i] for i in idx], settings)
            for i, (arr, flag) in zip(idx, outs):
                img, finite = to_pil(arr)
                if not finite:
                    raise nonfinite_pixels(self, samples[i])
                if img.size != images[i].size:
                    img = img.resize(images[i].size, resample=3)
                info = {"prompt": prompts[i], **recorded, **rows[i], **self.describe(rows[i], settings)}
                info["scheduler"] = info["scheduler"] or type(self.pipeline.scheduler).__name__
                if flag is not None:
                    info["nsfw"] = bool(flag)
                results[i] = Produced(self.finish(samples[i], images[i], img, extras[i]), info)
        return results

    def _run(self, samples: Sequence[Sample], images: list[Any], prompts: list[str], rows: list[dict[str, Any]],
             extras: list[dict[str, Any]], seeds: list[int], settings: dict[str, Any]) -> list[tuple[Any, Any]]:
        import torch

        pipe = self.pipeline
        kwargs: dict[str, Any] = {"num_inference_steps": settings["num_inference_steps"],
                                  "guidance_scale": settings["guidance_scale"], "output_type": "np",
                                  "generator": [torch_generator(int(s)) for s in seeds], **rows[0]}
        kwargs.update(self.call_kwargs(images, rows[0]))
        for key in extras[0]:
            kwargs[key] = [e[key] for e in extras]
        if self.negative_prompt:
            kwargs["negative_prompt"] = [self.negative_prompt] * len(prompts)
        with torch.inference_mode():
            result = pipe(prompt=list(prompts), **kwargs)
        flags = getattr(result, "nsfw_content_detected", None) or [None] * len(prompts)
        return list(zip(np.asarray(result.images), flags))

    def call_kwargs(self, images: list[Any], row: dict[str, Any]) -> dict[str, Any]:
        """The image inputs of one pipeline call."""
        return {"image": images}

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """Edit, then reject (reason ``nsfw``) the images a safety checker flagged: never training data."""
        out = super().__call__(samples, seeds)
        return [o.reject(NSFW_REASON) if o.lineage and o.lineage[-1].params.get("nsfw") else o for o in out]


__all__ = ["ImageEdit", "make_prompt", "to_pil"]
