"""Open-vocabulary detection through ``transformers``' zero-shot object detection models.

Given a list of phrases ("a cat", "a red car"), OWL-ViT (Minderer et al., 2022), OWLv2
and Grounding DINO (Liu et al., 2023) return the boxes where each phrase is seen and a
score per box. BiAug confirms and localises the objects an LLM lists with it; GMDA reuses
an image's boxes. Any ``AutoModelForZeroShotObjectDetection`` checkpoint loads (by hub id
or local directory); post-processing is the processor's own
``post_process_grounded_object_detection``.

Where the result goes: the output field (default ``text.detections``) holds a JSON
object ``{"boxes": [[x0, y0, x1, y1], ...], "labels": [...], "scores": [...]}`` in pixels
of the input image (clipped to it), best score first; ``sample.meta[meta_key]`` (default ``boxes``) holds
the same boxes as a list, the input ``image.inpaint`` reads. No detection above the
threshold is a valid, empty result (``{"boxes": [], ...}``, lineage ``detections: 0``).

Example:
    >>> t = ZeroShotDetect(phrases=["a photo of a {label}", "a tree"])
    >>> t.phrases_of(Sample("s", {}, label="tabby_cat")), t.output_field
    (['a photo of a tabby cat', 'a tree'], 'text.detections')
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Produced, Sample, Transform

from .._backend import LazyModel
from .._models import snapshot_hash


def clip_box(box: Sequence[float], width: float, height: float) -> list[float]:
    """``[x0, y0, x1, y1]`` clipped to the image and rounded to 0.01 pixel.

    Example:
        >>> clip_box([-3.0, 2.5, 60.0, 10.004], 48, 40)
        [0.0, 2.5, 48.0, 10.0]
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    width, height = float(width), float(height)
    return [round(min(max(x0, 0.0), width), 2), round(min(max(y0, 0.0), height), 2),
            round(min(max(x1, 0.0), width), 2), round(min(max(y1, 0.0), height), 2)]


class ZeroShotDetect(LazyModel, Transform):
    """Detect the given phrases in an image: boxes, labels and scores.

    Args:
        model: Hugging Face id or local directory of a zero-shot detector (default
            ``google/owlv2-base-patch16-ensemble``; ours; ``IDEA-Research/grounding-dino-tiny``
            and ``google/owlvit-base-patch32`` load the same way).
        revision: hub revision.
        phrases: what to look for; each may use ``{label}`` (default ``["a photo of a {label}"]``,
            OWL-ViT's prompt form).
        phrases_field: ``sample.meta`` key with a per-sample list of phrases, used instead of
            ``phrases`` when present (e.g. the objects an LLM listed).
        threshold: minimum box score (default 0.1, transformers' OWL-ViT post-processing default).
        text_threshold: Grounding DINO's per-token threshold (default 0.25, its default).
        max_detections: keep at most this many boxes, best first (default 100).
        meta_key: ``sample.meta`` key that receives the boxes (default ``boxes``; ``None``: none).
        batch_size: images per forward pass (rows with the same phrases share one).
        device, dtype: the kernel's policy.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``text.detections``).
    """

    name: ClassVar[str] = "image.detect"
    source: ClassVar[str] = "image"
    target: ClassVar[str] = "text"

    def __init__(self, model: str = "google/owlv2-base-patch16-ensemble", revision: str | None = None,
                 phrases: Sequence[str] = ("a photo of a {label}",), phrases_field: str | None = None,
                 threshold: float = 0.1, text_threshold: float = 0.25, max_detections: int = 100,
                 meta_key: str | None = "boxes", batch_size: int = 8, device: str = "auto", dtype: str = "auto",
                 allow_download: bool = False, in_field: str | None = None, out_field: str | None = None) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if isinstance(phrases, str) or not all(isinstance(p, str) and p.strip() for p in phrases) or not phrases:
            raise ConfigError(f"{self.name}: phrases must be a non-empty list of non-empty strings, got {phrases!r}")
        if not 0.0 <= float(threshold) <= 1.0 or not 0.0 <= float(text_threshold) <= 1.0:
            raise ConfigError(f"{self.name}: threshold and text_threshold must lie in [0, 1]")
        if not isinstance(max_detections, int) or max_detections < 1:
            raise ConfigError(f"{self.name}: max_detections must be a positive integer, got {max_detections!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        self._init_model(model, revision, device, dtype, allow_download)
        self.phrases = list(phrases)
        self.phrases_field = phrases_field
        self.threshold = float(threshold)
        self.text_threshold = float(text_threshold)
        self.max_detections = max_detections
        self.meta_key = meta_key
        self.batch_size = batch_size
        self.in_field = in_field
        self.out_field = out_field
        self._model: Any = None
        self._processor: Any = None

    @property
    def output_field(self) -> str:
        return self.out_field or "text.detections"

    def load(self) -> None:
        tf, path, device, dtype = self._load_prologue("transformers")
        if device == "cpu":
            from crossaug.precision import apply_torch_threads

            apply_torch_threads()
        self._processor = tf.AutoProcessor.from_pretrained(path, revision=self.revision)
        self._model = tf.AutoModelForZeroShotObjectDetection.from_pretrained(
            path, revision=self.revision, dtype=dtype).to(device).eval()
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        self.snapshot = snapshot_hash(path)

    def phrases_of(self, sample: Sample) -> list[str]:
        """The phrases searched in ``sample`` (``{label}`` filled); an empty one is a ``BadSample``."""
        raw = sample.meta.get(self.phrases_field) if self.phrases_field else None
        if raw is None:
            raw = self.phrases
        if isinstance(raw, str) or not isinstance(raw, (list, tuple)) or not raw:
            raise BadSample(f"{self.name}: phrases must be a non-empty list, got {raw!r}", sample_id=sample.id,
                            field=self.phrases_field)
        label = "" if sample.label is None else str(sample.label).replace("_", " ")
        out = [" ".join(str(p).replace("{label}", label).split()) for p in raw]
        for p, filled in zip(raw, out):
            if not filled or ("{label}" in str(p) and not label):
                raise BadSample(f"{self.name}: phrase {p!r} is empty for this sample (no label?)",
                                sample_id=sample.id, field=self.phrases_field)
        return out

    def detect(self, images: list[Any], phrases: list[str]) -> list[dict[str, list[Any]]]:
        """Detections of ``phrases`` in each image, best score first (pixel ``[x0, y0, x1, y1]`` boxes)."""
        import torch

        if self._model is None:
            self.load()
        model, proc = self._model, self._processor
        inputs = proc(text=[list(phrases)] * len(images), images=images, return_tensors="pt")
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(model.dtype)
        with torch.inference_mode():
            outputs = model(**inputs)
        post = proc.post_process_grounded_object_detection
        kwargs: dict[str, Any] = {"threshold": self.threshold, "target_sizes": [(im.height, im.width) for im in images],
                                  "text_labels": [list(phrases)] * len(images)}
        accepted = inspect.signature(post).parameters
        if "input_ids" in accepted:  # Grounding DINO: phrases are token spans of one text
            kwargs.update(input_ids=inputs["input_ids"], text_threshold=self.text_threshold)
        results = post(outputs, **kwargs)
        out = []
        for res, (w, h) in zip(results, (im.size for im in images)):
            scores = [float(s) for s in res["scores"]]
            labels = res.get("text_labels")
            if labels is None:
                labels = [phrases[int(i)] for i in res["labels"]]
            order = sorted(range(len(scores)), key=lambda k: -scores[k])[:self.max_detections]
            boxes = [clip_box(res["boxes"][k].tolist(), w, h) for k in order]
            out.append({"boxes": boxes, "labels": [str(labels[k]) for k in order],
                        "scores": [round(scores[k], 6) for k in order]})
        return out

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        phrases = [self.phrases_of(s) for s in samples]
        results: list[Any] = [None] * len(samples)
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, p in enumerate(phrases):
            groups.setdefault(tuple(p), []).append(i)
        for key, idx in groups.items():
            found = self.detect([samples[i][self.input_field].convert("RGB") for i in idx], list(key))
            for i, det in zip(idx, found):
                results[i] = Produced(json.dumps(det), {"phrases": list(key), "threshold": self.threshold,
                                                        "detections": len(det["boxes"]),
                                                        "snapshot": getattr(self, "snapshot", None)})
        return results

    def __call__(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Sample]:
        """Detect, then copy the boxes into ``sample.meta[meta_key]``."""
        out = super().__call__(samples, seeds)
        if not self.meta_key:
            return out
        return [o.replace(meta={**o.meta, self.meta_key: json.loads(o.fields[self.output_field])["boxes"]})
                for o in out]


__all__ = ["ZeroShotDetect"]
