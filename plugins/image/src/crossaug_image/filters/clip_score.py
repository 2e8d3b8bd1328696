"""CLIP score: cosine similarity between an image and a text under a CLIP model.

Image-text agreement (Hessel et al., 2021, CLIPScore without the 2.5 weight),
used to drop generated images (or captions) that lost their meaning.

Example:
    >>> f = ClipScore(min_score=0.2, text_from="label")
    >>> f.passes(0.25), f.passes(0.1)
    (True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample

from .._backend import check_device, check_dtype, pick_device, pick_dtype, require
from .._models import locate

SOURCES = ("candidate", "parent")


class ClipScore(Filter):
    """Reject candidates whose image and text disagree (CLIP cosine below ``min_score``).

    Args:
        model: Hugging Face id or local directory of a CLIP model
            (default ``openai/clip-vit-base-patch32``).
        revision: hub revision.
        min_score: smallest accepted cosine similarity (matching pairs score about
            0.25-0.35 under ViT-B/32, unrelated ones about 0.1-0.2).
        image_field, text_field: fields compared.
        image_from: take the image from the ``candidate`` or its ``parent``.
        text_from: ``candidate``, ``parent``, or ``label`` (``label_template`` filled
            with the candidate's label).
        label_template: text used when ``text_from="label"``.
        batch_size: pairs per forward pass.
        device: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        dtype: ``auto`` (half precision on a GPU, float32 on CPU), ``float32``, ``float16``, ``bfloat16``.
        allow_download: let ``from_pretrained`` download weights missing on disk.
    """

    name: ClassVar[str] = "image.clip-score"

    def __init__(self, model: str = "openai/clip-vit-base-patch32", revision: str | None = None,
                 min_score: float = 0.2, image_field: str = "image", text_field: str = "text",
                 image_from: str = "candidate", text_from: str = "candidate",
                 label_template: str = "a photo of a {label}", batch_size: int = 16, device: str = "auto",
                 allow_download: bool = False, dtype: str = "auto") -> None:
        if image_from not in SOURCES:
            raise ConfigError(f"image_from must be one of {', '.join(SOURCES)}, got {image_from!r}")
        if text_from not in SOURCES + ("label",):
            raise ConfigError(f"text_from must be candidate, parent or label, got {text_from!r}")
        if not -1 <= min_score <= 1:
            raise ConfigError(f"min_score is a cosine similarity in [-1, 1], got {min_score!r}")
        self.model = model
        self.revision = revision
        self.min_score = float(min_score)
        self.image_field = image_field
        self.text_field = text_field
        self.image_from = image_from
        self.text_from = text_from
        self.label_template = label_template
        self.batch_size = int(batch_size)
        self.device = check_device(device)
        self.dtype = check_dtype(dtype)
        self.allow_download = bool(allow_download)
        self._model: Any = None
        self._processor: Any = None


    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_model": None, "_processor": None}

    def load(self) -> None:
        require("torch")
        tf = require("transformers")
        path = locate("transformers", self.model, self.revision, self.allow_download)
        device = pick_device(self.device)
        dtype = pick_dtype(self.dtype, device)
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        self._processor = tf.CLIPProcessor.from_pretrained(path, revision=self.revision)
        self._model = tf.CLIPModel.from_pretrained(path, revision=self.revision, dtype=dtype).to(device).eval()

    def similarity(self, images: Sequence[Any], texts: Sequence[str]) -> list[float]:
        """Cosine similarity of each (image, text) pair."""
        import torch

        if self._model is None:
            self.load()
        out: list[float] = []
        for start in range(0, len(images), self.batch_size):
            imgs = [im.convert("RGB") for im in images[start:start + self.batch_size]]
            txts = list(texts[start:start + self.batch_size])
            inputs = self._processor(text=txts, images=imgs, return_tensors="pt", padding=True, truncation=True)
            inputs = {k: v.to(self._model.device) for k, v in inputs.items()}
            inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
            with torch.inference_mode():
                img = self._model.get_image_features(pixel_values=inputs["pixel_values"])
                txt = self._model.get_text_features(input_ids=inputs["input_ids"],
                                                    attention_mask=inputs.get("attention_mask"))
            img = getattr(img, "pooler_output", img)
            txt = getattr(txt, "pooler_output", txt)
            out.extend(torch.nn.functional.cosine_similarity(img.float(), txt.float(), dim=-1).tolist())
        return out

    def image_features(self, images: Sequence[Any]) -> Any:
        """L2-normalised CLIP image embeddings, an ``(n, d)`` float64 array (e.g. for a linear probe)."""
        import numpy as np
        import torch

        if self._model is None:
            self.load()
        out = []
        for start in range(0, len(images), self.batch_size):
            imgs = [im.convert("RGB") for im in images[start:start + self.batch_size]]
            pix = self._processor(images=imgs, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                feats = self._model.get_image_features(pixel_values=pix.to(self._model.device, self._model.dtype))
            feats = getattr(feats, "pooler_output", feats).float()
            out.append(torch.nn.functional.normalize(feats, dim=-1).cpu().numpy().astype(np.float64))
        return np.concatenate(out) if out else np.zeros((0, 0))

    def _text(self, cand: Sample, parent: Sample) -> str:
        if self.text_from == "label":
            if cand.label is None:
                raise BadSample(f"{self.name}: text_from='label' but the sample has no label", sample_id=cand.id)
            return self.label_template.replace("{label}", str(cand.label).replace("_", " "))
        return (cand if self.text_from == "candidate" else parent)[self.text_field]

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        images = [(c if self.image_from == "candidate" else p)[self.image_field]
                  for c, p in zip(candidates, parents)]
        texts = [self._text(c, p) for c, p in zip(candidates, parents)]
        scores = self.similarity(images, texts)
        for cand, score in zip(candidates, scores):
            if not math.isfinite(score):  # a NaN score would silently fail or pass: an error of that sample
                raise BadSample(f"{self.name}: the CLIP model produced a NaN or infinite similarity "
                                f"(dtype {getattr(self, 'runtime_dtype', self.dtype)}); try dtype='float32'",
                                sample_id=cand.id, field=self.image_field)
        return scores

    def passes(self, score: float) -> bool:
        return score >= self.min_score

    def verdict(self, score: float) -> str:
        return f"{self.name}: image-text similarity {score:.3f} < {self.min_score}"


__all__ = ["ClipScore"]
