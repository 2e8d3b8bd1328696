"""Image classification as a transform: a heavyweight model's label and confidence for an image.

PromptMix (Bakhtiarnia et al., IJCNN 2023) annotates its generated images with a
high-performing network and trains a lightweight one on them. ``image.classify`` is that
annotator for classification: any Hugging Face image-classification checkpoint (ViT,
ConvNeXt, BEiT...) by hub id or local directory, run through ``transformers``'
``image-classification`` pipeline and resolved offline first; or a user's function
``fn(images) -> [{label: score, ...}, ...]`` named ``"package.module:function"`` (runs only
with ``--trust-code`` when it lies outside the crossaug packages).

The output field (default ``text.label``) holds the top class; lineage records its
confidence and the ``top_k`` classes with their scores (the soft label).

Example:
    >>> t = ImageClassify(function="crossaug_image.labeling.classify:brightness_classes")
    >>> from PIL import Image
    >>> [s["text.label"] for s in t([Sample("s", {"image": Image.new("L", (8, 8), 250)})], [0])]
    ['bright']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from crossaug import BadSample, ConfigError, Produced, Sample, Transform
from crossaug.importing import import_callable

from .._backend import LazyModel
from .._models import snapshot_hash


def brightness_classes(images: Sequence[Any]) -> list[dict[str, float]]:
    """A toy classifier for examples and tests: ``{"bright": p, "dark": 1 - p}``, p the mean grey level / 255."""
    import numpy as np

    out = []
    for img in images:
        p = float(np.asarray(img.convert("L"), dtype=np.float64).mean() / 255.0)
        out.append({"bright": p, "dark": 1.0 - p})
    return out


def top_classes(scores: Mapping[str, float], top_k: int) -> list[tuple[str, float]]:
    """The ``top_k`` ``(label, score)`` pairs, best first (ties by label, so the order is stable).

    Example:
        >>> top_classes({"b": 0.2, "a": 0.2, "c": 0.6}, 2)
        [('c', 0.6), ('a', 0.2)]
    """
    return sorted(((str(k), float(v)) for k, v in scores.items()), key=lambda kv: (-kv[1], kv[0]))[:top_k]


class ImageClassify(LazyModel, Transform):
    """Label an image with a classifier: top class, its confidence and the top-k scores.

    Args:
        model: Hugging Face id or local directory of an image-classification model (default
            ``google/vit-base-patch16-224``, ViT-B/16 on ImageNet-1k; ours). Ignored with ``function``.
        revision: hub revision.
        function: importable ``"package.module:function"`` taking a list of PIL images and
            returning one ``{label: score}`` mapping per image, used instead of ``model``.
        top_k: classes recorded per image as the soft label (default 5).
        batch_size: images per forward pass.
        device, dtype: the kernel's policy.
        allow_download: let ``from_pretrained`` download weights missing on disk.
        in_field, out_field: fields read and written (default ``image`` -> ``text.label``).
    """

    name: ClassVar[str] = "image.classify"
    source: ClassVar[str] = "image"
    target: ClassVar[str] = "text"
    loaded: ClassVar[tuple[str, ...]] = ("_model", "_processor", "_pipe", "_fn")

    def __init__(self, model: str = "google/vit-base-patch16-224", revision: str | None = None,
                 function: str | None = None, top_k: int = 5, batch_size: int = 8, device: str = "auto",
                 dtype: str = "auto", allow_download: bool = False, in_field: str | None = None,
                 out_field: str | None = "text.label") -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"{self.name}: model must be a Hugging Face id or a local path, got {model!r}")
        if not isinstance(top_k, int) or top_k < 1:
            raise ConfigError(f"{self.name}: top_k must be a positive integer, got {top_k!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"{self.name}: batch_size must be a positive integer, got {batch_size!r}")
        self._init_model(model, revision, device, dtype, allow_download)
        self.function = function
        self.top_k = top_k
        self.batch_size = batch_size
        self.in_field = in_field
        self.out_field = out_field
        self._model: Any = None
        self._processor: Any = None
        self._pipe: Any = None
        self._fn: Callable[..., Any] | None = import_callable(function, param="function") if function else None

    @property
    def model_id(self) -> str | None:
        return f"function:{self.function}" if self.function else self.model

    @property
    def model_revision(self) -> str | None:
        return None if self.function else self.revision

    @property
    def is_neural(self) -> bool:
        return self.function is None

    def load(self) -> None:
        tf, path, device, dtype = self._load_prologue("transformers")
        self._processor = tf.AutoImageProcessor.from_pretrained(path, revision=self.revision)
        self._model = tf.AutoModelForImageClassification.from_pretrained(path, revision=self.revision,
                                                                         dtype=dtype).to(device).eval()
        self._pipe = tf.pipeline("image-classification", model=self._model, image_processor=self._processor,
                                 device=self._model.device)
        self.runtime_device, self.runtime_dtype = device, str(dtype).removeprefix("torch.")
        self.snapshot = snapshot_hash(path)

    def classify(self, images: Sequence[Any]) -> list[dict[str, float]]:
        """``{label: score}`` per image: all classes from a function, the ``top_k`` best from a model."""
        if self.function:
            if self._fn is None:
                self._fn = import_callable(self.function, param="function")
            found = list(self._fn(list(images)))
            if len(found) != len(images):
                raise ConfigError(f"{self.name}: function {self.function} returned {len(found)} results "
                                  f"for {len(images)} images")
            return [{str(k): float(v) for k, v in dict(r).items()} for r in found]
        if self._pipe is None:
            self.load()
        if str(self._model.device) == "cpu":
            from crossaug.precision import apply_torch_threads

            apply_torch_threads()
        found = self._pipe(list(images), top_k=self.top_k, batch_size=self.batch_size)
        return [{str(d["label"]): float(d["score"]) for d in r} for r in found]

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        scores = self.classify([s[self.input_field].convert("RGB") for s in samples])
        out: list[Any] = []
        for s, sc in zip(samples, scores):
            top = top_classes(sc, self.top_k)
            if not top:
                raise BadSample(f"{self.name}: the classifier returned no class", sample_id=s.id,
                                field=self.input_field)
            out.append(Produced(top[0][0], {"confidence": round(top[0][1], 6),
                                            "scores": {k: round(v, 6) for k, v in top},
                                            "snapshot": getattr(self, "snapshot", None)}))
        return out


__all__ = ["ImageClassify", "brightness_classes", "top_classes"]
