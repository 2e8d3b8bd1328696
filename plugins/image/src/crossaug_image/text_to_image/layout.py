"""Layout-to-image: box-conditioned text-to-image with GLIGEN through ``diffusers``.

GLIGEN (Li et al., CVPR 2023) adds gated self-attention layers to a frozen Stable
Diffusion UNet; they attend to one grounding token per object, made from the phrase's
CLIP text embedding and its box ``[x0, y0, x1, y1]`` (fractions of the image). SLUMA
(Zheng et al., ACM MM 2024) generates images for coreference texts with it, one box per
entity mention. The grounding tokens act during the first
``gligen_scheduled_sampling_beta`` share of the denoising steps (GLIGEN's scheduled
sampling, default 0.3), then the plain UNet refines the image.

A sample's layout is a list of phrases and a list of boxes of the same length, read from
``sample.meta`` (then the fields) under ``phrases_field`` and ``boxes_field``; boxes are
pixels of the output image or fractions (``box_units``), as ``image.inpaint`` takes them.
A box outside the image, an empty box, phrases and boxes of different counts, or more
than GLIGEN's 30 objects are a ``BadSample`` naming the sample. A sample with neither
phrases nor boxes is plain text-to-image: the same checkpoint without its grounding
layers (diffusers' ``StableDiffusionPipeline`` over the same components), which equals
``image.text-to-image.diffusers`` on those weights from the same seed (the tests pin it).
Rows with the same layout share a pipeline call (diffusers takes one layout per call);
every image has its own generator, so it never depends on its batch mates.

Example:
    >>> to_fractions([[8, 4, 24, 16]], (32, 16), "pixels", "s1", "boxes")
    [[0.25, 0.25, 0.75, 1.0]]
    >>> t = GligenLayoutToImage(model="masterful/gligen-1-4-generation-text-box")
    >>> t.name, t.generation_settings()["num_inference_steps"], t.gligen_scheduled_sampling_beta
    ('image.layout-to-image', 50, 0.3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Produced, Sample

from .._backend import no_progress
from .base import fill_template, nonfinite_pixels
from .stable_diffusion import StableDiffusionTextToImage

UNITS = ("pixels", "fractions")
#: grounding tokens GLIGEN's position network holds (diffusers drops any beyond, with a warning)
MAX_OBJECTS = 30


def to_fractions(boxes: Any, size: tuple[int, int] | None, units: str, sample_id: str,
                 field: str) -> list[list[float]]:
    """``boxes`` as ``[x0, y0, x1, y1]`` fractions of an image of ``size`` (w, h); bad boxes raise ``BadSample``."""
    if not isinstance(boxes, (list, tuple)):
        raise BadSample(f"boxes must be a list of [x0, y0, x1, y1], got {boxes!r}", sample_id=sample_id,
                        field=field)
    out = []
    for box in boxes:
        if (not isinstance(box, (list, tuple)) or len(box) != 4
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
            raise BadSample(f"a box must be [x0, y0, x1, y1], got {box!r}", sample_id=sample_id, field=field)
        x0, y0, x1, y1 = (float(v) for v in box)
        if units == "pixels":
            assert size is not None
            w, h = size
            x0, x1, y0, y1 = x0 / w, x1 / w, y0 / h, y1 / h
            where = f"the {w}x{h} image"
        else:
            where = "the image ([0, 1] fractions)"
        if not all(np.isfinite([x0, y0, x1, y1])) or x0 < 0 or y0 < 0 or x1 > 1 or y1 > 1:
            raise BadSample(f"box {list(box)} ({units}) lies outside {where}", sample_id=sample_id, field=field)
        if x1 <= x0 or y1 <= y0:
            raise BadSample(f"box {list(box)} ({units}) is empty (x1 <= x0 or y1 <= y0)", sample_id=sample_id,
                            field=field)
        out.append([round(x0, 6), round(y0, 6), round(x1, 6), round(y1, 6)])
    return out


class GligenLayoutToImage(StableDiffusionTextToImage):
    """Generate one image per (text, layout, seed), each phrase drawn inside its box.

    Args:
        model: Hugging Face id or local directory of a GLIGEN pipeline (a UNet with gated
            attention and a position net; default ``masterful/gligen-1-4-generation-text-box``,
            the diffusers conversion of GLIGEN's SD-1.4 text-box model, which SLUMA used).
        revision: hub revision.
        phrases_field: ``sample.meta`` key (then field) with the phrase of each box (default ``phrases``).
        boxes_field: ``sample.meta`` key (then field) with ``[x0, y0, x1, y1]`` boxes (default ``boxes``).
        box_units: ``fractions`` (default) or ``pixels`` of the output image.
        gligen_scheduled_sampling_beta: share of the steps with grounding (GLIGEN's scheduled
            sampling; 0.3, diffusers' and the GLIGEN authors' default).
        num_inference_steps, guidance_scale, scheduler, height, width, negative_prompt,
            prompt_template, safety_checker, batch_size, device, dtype, allow_download,
            in_field, out_field: as ``image.text-to-image.diffusers`` (50 steps, guidance 7.5
            for a Stable Diffusion family model).
    """

    name: ClassVar[str] = "image.layout-to-image"
    pipeline_class: ClassVar[str] = "StableDiffusionGLIGENPipeline"
    loaded: ClassVar[tuple[str, ...]] = ("_pipe", "_t2i")

    def __init__(self, model: str = "masterful/gligen-1-4-generation-text-box", revision: str | None = None,
                 phrases_field: str = "phrases", boxes_field: str = "boxes", box_units: str = "fractions",
                 gligen_scheduled_sampling_beta: float = 0.3, num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, scheduler: str | None = None, height: int | None = None,
                 width: int | None = None, negative_prompt: str | None = None, prompt_template: str = "{text}",
                 safety_checker: bool = True, batch_size: int = 4, device: str = "auto", dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None, out_field: str | None = None) -> None:
        if box_units not in UNITS:
            raise ConfigError(f"{self.name}: box_units must be one of {', '.join(UNITS)}, got {box_units!r}")
        beta = gligen_scheduled_sampling_beta
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not 0.0 <= float(beta) <= 1.0:
            raise ConfigError(f"{self.name}: gligen_scheduled_sampling_beta must lie in [0, 1], got {beta!r}")
        for what, v in (("phrases_field", phrases_field), ("boxes_field", boxes_field)):
            if not isinstance(v, str) or not v:
                raise ConfigError(f"{self.name}: {what} must be a non-empty string, got {v!r}")
        self.phrases_field = phrases_field
        self.boxes_field = boxes_field
        self.box_units = box_units
        self.gligen_scheduled_sampling_beta = float(beta)
        super().__init__(model=model, revision=revision, num_inference_steps=num_inference_steps,
                         guidance_scale=guidance_scale, scheduler=scheduler, height=height, width=width,
                         negative_prompt=negative_prompt, prompt_template=prompt_template,
                         safety_checker=safety_checker, batch_size=batch_size, device=device, dtype=dtype,
                         allow_download=allow_download, in_field=in_field, out_field=out_field)
        self._t2i: Any = None

    # -- layouts ---------------------------------------------------------------
    def output_size(self) -> tuple[int, int]:
        """``(width, height)`` of the generated images (the model's default size loads the pipeline)."""
        if self.height is not None and self.width is not None:
            return self.width, self.height
        pipe = self.pipeline
        default = int(pipe.unet.config.sample_size) * int(pipe.vae_scale_factor)
        return self.width or default, self.height or default

    def layout_of(self, sample: Sample) -> tuple[list[str], list[list[float]]]:
        """The sample's phrases and boxes (fractions); ``([], [])`` for none."""
        def read(key: str) -> Any:
            return sample.meta.get(key, sample.fields.get(key))

        phrases, boxes = read(self.phrases_field), read(self.boxes_field)
        phrases = [] if phrases is None else phrases
        boxes = [] if boxes is None else boxes
        if not isinstance(phrases, (list, tuple)) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise BadSample(f"{self.name}: phrases must be a list of non-empty strings, got {phrases!r}",
                            sample_id=sample.id, field=self.phrases_field)
        if not isinstance(boxes, (list, tuple)) or len(boxes) != len(phrases):
            n = len(boxes) if isinstance(boxes, (list, tuple)) else boxes
            raise BadSample(f"{self.name}: {len(phrases)} phrase(s) but {n} box(es); give one "
                            f"[x0, y0, x1, y1] box per phrase", sample_id=sample.id, field=self.boxes_field)
        if len(boxes) > MAX_OBJECTS:
            raise BadSample(f"{self.name}: {len(boxes)} boxes; GLIGEN grounds at most {MAX_OBJECTS}",
                            sample_id=sample.id, field=self.boxes_field)
        size = self.output_size() if boxes and self.box_units == "pixels" else None
        fractions = to_fractions(boxes, size, self.box_units, sample.id, self.boxes_field)
        return [" ".join(p.split()) for p in phrases], fractions

    # -- generation --------------------------------------------------------------
    def plain_pipeline(self) -> Any:
        """Stable Diffusion over the same components, without grounding (samples with no layout)."""
        if getattr(self, "_t2i", None) is None:
            import diffusers

            self._t2i = no_progress(diffusers.StableDiffusionPipeline.from_pipe(self.pipeline))
        return self._t2i

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        prompts = [fill_template(self.prompt_template, s[self.input_field], s.label) for s in samples]
        for s, p in zip(samples, prompts):
            if not p:
                raise BadSample(f"{self.name}: the prompt is empty (template {self.prompt_template!r})",
                                sample_id=s.id, field=self.input_field)
        layouts = [self.layout_of(s) for s in samples]
        groups: dict[str, list[int]] = {}
        for i, layout in enumerate(layouts):
            groups.setdefault(repr(layout), []).append(i)
        results: list[Any] = [None] * len(samples)
        for idx in groups.values():
            phrases, boxes = layouts[idx[0]]
            outs = self._generate([prompts[i] for i in idx], [seeds[i] for i in idx], phrases, boxes)
            for i, (img, info) in zip(idx, outs):
                if info.pop("nonfinite", False):
                    raise nonfinite_pixels(self, samples[i])
                results[i] = Produced(img, {"prompt": prompts[i], **info})
        return results

    def _generate(self, prompts: list[str], seeds: list[int], phrases: list[str],
                  boxes: list[list[float]]) -> list[tuple[Any, dict[str, Any]]]:
        import torch

        settings = self.generation_settings()
        kwargs = self._pipeline_kwargs(settings, prompts, seeds)
        layout: dict[str, Any] = {"phrases": phrases, "boxes": boxes}
        if boxes:
            pipe = self.pipeline
            beta = self.gligen_scheduled_sampling_beta
            kwargs.update(gligen_phrases=list(phrases), gligen_boxes=[list(b) for b in boxes],
                          gligen_scheduled_sampling_beta=beta)
            layout.update(gligen_scheduled_sampling_beta=beta,
                          grounding_steps=int(beta * settings["num_inference_steps"]))
        else:
            pipe = self.plain_pipeline()
        with torch.inference_mode():
            result = pipe(list(prompts), **kwargs)
        return self._outputs(pipe, result, settings, len(prompts), layout)


__all__ = ["GligenLayoutToImage", "to_fractions", "UNITS", "MAX_OBJECTS"]
