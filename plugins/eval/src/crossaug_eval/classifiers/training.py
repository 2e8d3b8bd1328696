"""A small, deterministic torch training loop shared by the built-in neural classifiers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from crossaug.errors import MissingDependency


def require_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug[eval]'", what="torch") from exc
    return torch


def label_index(labels: Sequence[Any]) -> tuple[list[Any], dict[Any, int]]:
    """Sorted distinct classes and their indices (every class a mixed label names counts)."""
    from ..labels import label_classes

    classes = label_classes(labels)
    return classes, {c: i for i, c in enumerate(classes)}


def class_targets(labels: Sequence[Any], index: dict[Any, int], ids: Sequence[str] | None = None) -> Any:
    """Training targets: class indices when every label is hard, else an ``(n, classes)`` matrix of shares.

    Cross-entropy against the share matrix is the soft-target loss of mixup-style labels
    (see :mod:`crossaug_eval.labels`); a hard label is a one-hot row of it.
    """
    from ..labels import is_soft, label_weights

    torch = require_torch()
    if not any(is_soft(y) for y in labels):
        return torch.tensor([index[y] for y in labels])
    out = torch.zeros((len(labels), len(index)), dtype=torch.float32)
    for i, y in enumerate(labels):
        for cls, share in label_weights(y, None if ids is None else ids[i]).items():
            out[i, index[cls]] += share
    return out


def train_loop(model: Any, inputs: Any, targets: Any, *, seed: int, epochs: int | None, batch_size: int,
               lr: float, weight_decay: float = 0.0, forward: Callable[[Any, Any], Any] | None = None,
               params: Any = None, steps: int | None = None) -> float:
    """Train ``model`` with Adam(W) and cross-entropy; return the mean loss of the last epoch.

    ``targets`` holds class indices, or an ``(n, classes)`` float matrix of class shares
    (soft targets, see :func:`class_targets`).

    ``steps`` (when given) trains whole epochs until at least that many optimiser steps
    were taken, so small and large (augmented) training sets get the same optimisation
    budget; otherwise ``epochs`` passes are made.

    Randomness (initialisation already done by the caller, dropout, shuffling) is
    drawn inside ``torch.random.fork_rng`` so global torch state is left untouched.
    ``inputs`` is a tensor or a dict of tensors indexed along the first dimension.
    """
    torch = require_torch()
    n = len(targets)
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(params if params is not None else model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss()
    last = float("nan")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        model.train()
        taken, epoch = 0, 0
        while (epoch < epochs) if steps is None else (taken < steps):
            epoch += 1
            order = torch.randperm(n, generator=gen)
            total, count = 0.0, 0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                batch = {k: v[idx] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[idx]
                logits = forward(model, batch) if forward is not None else model(batch)
                loss = loss_fn(logits, targets[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                taken += 1
                total += float(loss.detach()) * len(idx)
                count += len(idx)
            last = total / max(1, count)
    model.eval()
    return last


def predict_in_batches(model: Any, inputs: Any, batch_size: int = 256,
                       forward: Callable[[Any, Any], Any] | None = None) -> np.ndarray:
    """Arg-max class indices for ``inputs``."""
    torch = require_torch()
    n = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    out = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            sl = slice(start, start + batch_size)
            batch = {k: v[sl] for k, v in inputs.items()} if isinstance(inputs, dict) else inputs[sl]
            logits = forward(model, batch) if forward is not None else model(batch)
            out.append(logits.argmax(-1).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
