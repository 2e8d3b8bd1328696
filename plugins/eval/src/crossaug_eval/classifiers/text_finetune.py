"""A small transformer encoder fine-tuned with a classification head (the papers fine-tune BERT).

Default encoder: the embedded all-MiniLM-L6-v2 (6 layers, 22 M parameters), mean
pooled, with a linear head; every weight is trained. Any ``transformers``
encoder (hub id or local directory, resolved offline first) works.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from crossaug.sample import Sample

from ..embedding import EMBEDDED_MODEL, sentence_model_path
from . import Classifier
from .training import class_targets, label_index, predict_in_batches, require_torch, train_loop


def _forward(model: Any, batch: dict[str, Any]) -> Any:
    encoder, head = model[0], model[1]
    hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    return head(pooled)


class FineTunedEncoder(Classifier):
    """Fine-tune a transformer encoder + linear head on the training samples.

    Args:
        field: the text field classified.
        model: encoder id or local directory (default: embedded all-MiniLM-L6-v2).
        epochs: passes over the training set.
        lr: AdamW learning rate (BERT fine-tuning range, Devlin et al. 2019: 2e-5..5e-5;
            higher suits the tiny few-shot sets).
        batch_size: samples per step.
        max_length: tokens per text.
        steps: train whole epochs until this many optimiser steps were taken, instead of
            ``epochs`` passes: the same optimisation budget with and without augmentation
            (six times more data would otherwise mean six times more steps).
    """

    name: ClassVar[str] = "text-finetune"

    def __init__(self, field: str = "text", model: str = EMBEDDED_MODEL, epochs: int = 10, lr: float = 1e-4,
                 batch_size: int = 16, max_length: int = 64, steps: int | None = None) -> None:
        self.field = field
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.steps = steps
        self._net: Any = None
        self._classes: list[Any] = []
        self._base: Any = None

    def _reset(self) -> None:
        self._net = None

    def _load_base(self) -> tuple[Any, Any]:
        if self._base is None:
            require_torch()
            try:
                from transformers import AutoModel, AutoTokenizer
            except ImportError as exc:
                from crossaug.errors import MissingDependency

                raise MissingDependency("pip install 'crossaug[eval]' transformers", what="transformers") from exc
            path = sentence_model_path(self.model)
            self._base = (AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).state_dict(), path)
        return self._base[0], self._base

    def _encode(self, samples: Sequence[Sample]) -> dict[str, Any]:
        tok, _ = self._load_base()
        enc = tok([str(s[self.field]) for s in samples], padding="max_length", truncation=True,
                  max_length=self.max_length, return_tensors="pt")
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def fit(self, samples: Sequence[Sample], seed: int) -> FineTunedEncoder:
        torch = require_torch()
        from transformers import AutoConfig, AutoModel

        _, (tok, state, path) = self._load_base()
        self._classes, index = label_index([s.label for s in samples])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            encoder = AutoModel.from_config(AutoConfig.from_pretrained(path))
            encoder.load_state_dict(state)
            head = torch.nn.Linear(encoder.config.hidden_size, len(self._classes))
        net = torch.nn.ModuleList([encoder, head])
        targets = class_targets([s.label for s in samples], index, [s.id for s in samples])
        self.train_loss_ = train_loop(net, self._encode(samples), targets, seed=seed, epochs=self.epochs,
                                      steps=self.steps, batch_size=self.batch_size, lr=self.lr, weight_decay=0.01,
                                      forward=_forward)
        self._net = net
        return self

    def predict(self, samples: Sequence[Sample]) -> list[Any]:
        idx = predict_in_batches(self._net, self._encode(samples), batch_size=64, forward=_forward)
        return [self._classes[int(i)] for i in idx]


__all__ = ["FineTunedEncoder"]
