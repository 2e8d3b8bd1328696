"""A small convolutional network trained from scratch: the evaluation's image classifier.

Two conv-ReLU-pool blocks (16 and 32 channels), global average pooling and a
linear head over images resized to ``size`` x ``size``; trained with AdamW.
Fast on CPU for k-shot sets of small images (scikit-learn digits in seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug.sample import Sample

from . import Classifier
from .training import class_targets, label_index, predict_in_batches, require_torch, train_loop


def image_tensor(images: Sequence[Any], size: int, channels: int) -> Any:
    """``(n, channels, size, size)`` float tensor in [0, 1] from PIL images."""
    torch = require_torch()
    mode = "L" if channels == 1 else "RGB"
    arrs = [np.asarray(im.convert(mode).resize((size, size)), dtype=np.float32) / 255.0 for im in images]
    x = np.stack(arrs)
    x = x[:, None] if channels == 1 else x.transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x))


def small_cnn(in_channels: int, classes: int, width: int = 16) -> Any:
    """The conv net used for images and spectrograms; ``net[:-1]`` gives embeddings."""
    nn = require_torch().nn
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, classes))


class CNNClassifier(Classifier):
    """Shared training and prediction of the small CNN classifiers (images, spectrograms).

    Subclasses set the attributes read here (``steps``, ``epochs``, ``lr``, ``batch_size``) and
    implement ``_inputs(samples)`` and ``_build_net(classes)``; ``_prepare(samples)`` may learn
    input statistics before training.
    """

    _net: Any = None
    _classes: list[Any] = []

    def _reset(self) -> None:
        self._net = None

    def _prepare(self, samples: Sequence[Sample]) -> None:
        """Learn what input preparation needs from the training samples (nothing by default)."""

    def _inputs(self, samples: Sequence[Sample]) -> Any:
        raise NotImplementedError

    def _build_net(self, classes: int) -> Any:
        raise NotImplementedError

    def fit(self, samples: Sequence[Sample], seed: int) -> CNNClassifier:
        torch = require_torch()
        self._prepare(samples)
        self._classes, index = label_index([s.label for s in samples])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            net = self._build_net(len(self._classes))
        targets = class_targets([s.label for s in samples], index, [s.id for s in samples])
        self.train_loss_ = train_loop(net, self._inputs(samples), targets, seed=seed, epochs=self.epochs,
                                      steps=None if self.epochs else self.steps,
                                      batch_size=self.batch_size, lr=self.lr)
        self._net = net
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        return [self._classes[int(i)] for i in predict_in_batches(self._net, self._inputs(samples))]

    def features(self, samples: Sequence[Sample]) -> np.ndarray:
        torch = require_torch()
        with torch.no_grad():
            return self._net[:-1](self._inputs(samples)).numpy()


class ImageCNN(CNNClassifier):
    """Small CNN trained from scratch on the training images.

    Args:
        field: the image field classified.
        size: side the images are resized to.
        channels: 1 (grey) or 3 (RGB).
        steps: optimiser steps (whole epochs until reached): the same for every training-set
            size, so augmented and clean sets get the same optimisation budget.
        lr: AdamW learning rate.
        batch_size: images per step.
        width: channels of the first conv layer.
        epochs: train this many passes instead of ``steps``.
    """

    name: ClassVar[str] = "image-cnn"

    def __init__(self, field: str = "image", size: int = 32, channels: int = 1, steps: int = 300,
                 lr: float = 3e-3, batch_size: int = 32, width: int = 16, epochs: int | None = None) -> None:
        self.field = field
        self.size = size
        self.channels = channels
        self.steps = steps
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.width = width
        self._net: Any = None
        self._classes: list[Any] = []

    def _inputs(self, samples: Sequence[Sample]) -> Any:
        return image_tensor([s[self.field] for s in samples], self.size, self.channels)

    def _build_net(self, classes: int) -> Any:
        return small_cnn(self.channels, classes, self.width)


__all__ = ["CNNClassifier", "ImageCNN", "small_cnn", "image_tensor"]
