"""Classifiers the evaluation trains: one fast built-in per modality, or the user's own.

A classifier reads one field of each :class:`~crossaug.Sample` and its label.
:meth:`Classifier.fit` trains a fresh model (``seed`` fixes every random draw)
and records the final training loss in ``train_loss_`` (used for diversity);
:meth:`Classifier.predict` returns one label per sample. :meth:`Classifier.fresh`
gives an untrained copy that shares expensive caches (a frozen encoder).

Built-ins (by name): ``text-embed-lr`` (frozen sentence embeddings + logistic
regression), ``text-finetune`` (the MiniLM encoder with a classification head,
fine-tuned), ``image-cnn`` (small CNN from scratch), ``audio-cnn`` (log-mel
spectrogram CNN from scratch). Your own model: pass any object with
``fit(samples, seed)``/``predict(samples)``, a callable
``train(samples, seed) -> predict_fn`` (see :class:`CallableClassifier`), or
``"package.module:attribute"``.

Example:
    >>> from crossaug import Sample
    >>> majority = CallableClassifier(lambda train, seed: (lambda xs: [train[0].label] * len(xs)))
    >>> majority.fit([Sample("a", {"text": "x"}, label=1)], seed=0).predict([Sample("b", {"text": "y"})])
    [1]
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from crossaug.errors import ConfigError
from crossaug.importing import import_object
from crossaug.sample import Sample


class Classifier:
    """Base class: train on labelled samples, predict labels."""

    name: ClassVar[str] = ""
    field: str = "text"
    train_loss_: float | None = None

    def fit(self, samples: Sequence[Sample], seed: int) -> Classifier:
        raise NotImplementedError

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        raise NotImplementedError

    def features(self, samples: Sequence[Sample]) -> Any:
        """Embeddings of ``samples`` (optional; used for dispersion)."""
        raise NotImplementedError

    def fresh(self) -> Classifier:
        """An untrained copy (shares frozen encoders and caches)."""
        clone = copy.copy(self)
        clone.train_loss_ = None
        clone._reset()
        return clone

    def _reset(self) -> None:
        """Drop trained state in a copy made by :meth:`fresh`."""


class CallableClassifier(Classifier):
    """Wrap ``train(samples, seed)`` returning a predict function (or ``(predict, train_loss)``).

    Args:
        train: the user's training function.
        field: the field it reads (informational).
    """

    name: ClassVar[str] = "callable"

    def __init__(self, train: Callable[[list[Sample], int], Any], field: str = "text") -> None:
        self.train = train
        self.field = field
        self._predict: Any = None

    def _reset(self) -> None:
        self._predict = None

    def fit(self, samples: Sequence[Sample], seed: int) -> CallableClassifier:
        out = self.train(list(samples), seed)
        if isinstance(out, tuple):
            out, loss = out
            self.train_loss_ = None if loss is None else float(loss)
        self._predict = out.predict if hasattr(out, "predict") else out
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        if self._predict is None:
            raise ConfigError("call fit() before predict()")
        return list(self._predict(list(samples)))


class _ObjectClassifier(Classifier):
    """Adapter for a user object with ``fit(samples, seed)`` and ``predict(samples)``."""

    name: ClassVar[str] = "object"

    def __init__(self, obj: Any) -> None:
        self.obj = obj
        self.field = getattr(obj, "field", "text")

    def _reset(self) -> None:
        self.obj = copy.deepcopy(self.obj)

    def fit(self, samples: Sequence[Sample], seed: int) -> _ObjectClassifier:
        self.obj.fit(list(samples), seed)
        loss = getattr(self.obj, "train_loss_", None)
        self.train_loss_ = None if loss is None else float(loss)
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        return list(self.obj.predict(list(samples)))


BUILTIN = {
    "text-embed-lr": "crossaug_eval.classifiers.text_embed:EmbeddingLogReg",
    "text-finetune": "crossaug_eval.classifiers.text_finetune:FineTunedEncoder",
    "image-cnn": "crossaug_eval.classifiers.image_cnn:ImageCNN",
    "audio-cnn": "crossaug_eval.classifiers.audio_cnn:SpectrogramCNN",
}
DEFAULT_FOR = {"text": "text-embed-lr", "image": "image-cnn", "audio": "audio-cnn"}


def get_classifier(spec: Any = None, field: str = "text", **options: Any) -> Classifier:
    """A :class:`Classifier` from a built-in name, ``module:attr``, an object or a callable.

    Args:
        spec: ``None`` (the default for ``field``'s modality), a name in ``BUILTIN``,
            ``"package.module:attribute"``, a :class:`Classifier`, an object with
            ``fit``/``predict`` or a training callable.
        field: the field classified.
        options: constructor arguments for built-ins.
    """
    if spec is None:
        modality = field.split(".", 1)[0]
        if modality not in DEFAULT_FOR:
            raise ConfigError(f"no built-in classifier for modality {modality!r}; pass your own "
                              f"(an object with fit/predict or a callable)")
        spec = DEFAULT_FOR[modality]
    if isinstance(spec, str):
        if spec in BUILTIN:
            return import_object(BUILTIN[spec])(field=field, **options)
        if ":" in spec:
            spec = import_object(spec, param="classifier")
            if isinstance(spec, type):
                spec = spec(**options)
        else:
            raise ConfigError(f"unknown classifier {spec!r}; built-ins: {', '.join(BUILTIN)} "
                              "(or 'package.module:attribute')")
    if isinstance(spec, Classifier):
        return spec
    if hasattr(spec, "fit") and hasattr(spec, "predict"):
        return _ObjectClassifier(spec)
    if callable(spec):
        return CallableClassifier(spec, field=field)
    raise ConfigError(f"cannot use {type(spec).__name__} as a classifier")


__all__ = ["Classifier", "CallableClassifier", "get_classifier", "BUILTIN", "DEFAULT_FOR"]
