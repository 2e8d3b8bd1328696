"""ALIA's two filters of edited images (Dunlap et al., NeurIPS 2023; the filtering step).

* **Semantic filter.** CLIP zero-shot classification of each edit among the task prompt
  ("a photo of a bird") and generic negatives ("a photo of an object", "an image", ...):
  ``p = softmax(100 * cos(image, prompts))``; the edit is kept when a task prompt wins
  (the reference code's ``semantic_filter``). The recorded score is ``p`` of the task
  prompt(s); ``min_prob`` (ours, off by default) also asks for that much probability.
* **Confidence filter.** A classifier trained on the original images predicts each edit.
  With ``t_y`` the mean probability the classifier gives class ``y`` over the training
  images of class ``y`` (cleanlab's per-class confident threshold, as the reference code),
  an edit of class ``y`` whose top confidence exceeds ``t_y`` is dropped: **too easy** when
  the top class is ``y`` (the edit changed too little), **corrupted** when it is another
  class (the edit destroyed the class). The recorded score is the top confidence.

:func:`semantic_keep`, :func:`confident_thresholds` and :func:`confidence_decision` are the
pure rules; :class:`SemanticFilter` and :class:`ConfidenceFilter` wrap them as filters that
score every edited candidate (rejected ones too, so each output carries both scores) and
reject with the reason. :class:`LinearProbe` is the default classifier: multinomial logistic
regression on CLIP image embeddings of the originals (ours; the paper trains a ResNet-50,
its reference code also offers a linear probe on CLIP).

Example:
    >>> semantic_keep([0.30, 0.25, 0.20], n_task=1)
    (True, 0.9933, 0)
    >>> confident_thresholds([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]], [0, 0, 1]).round(3).tolist()
    [0.8, 0.8]
    >>> confidence_decision([0.95, 0.05], 0, [0.8, 0.8]), confidence_decision([0.1, 0.9], 0, [0.8, 0.8])
    ('too-easy', 'corrupted')
    >>> confidence_decision([0.6, 0.4], 0, [0.8, 0.8]) is None
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, Filter, Sample

#: CLIP's logit scale in the reference code's semantic filter (``100 * image @ text.T``).
CLIP_SCALE = 100.0
#: Negative prompts of the reference code's ``semantic_filter`` (filtering/filter.py).
NEGATIVE_PROMPTS = ("a photo of an object", "a photo of a scene", "a photo of geometric shapes", "a photo",
                    "an image", "a black photo")


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    z = np.asarray(x, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def semantic_keep(cosines: Sequence[float], n_task: int = 1, min_prob: float | None = None,
                  scale: float = CLIP_SCALE) -> tuple[bool, float, int]:
    """(keep, task probability, winning prompt) for one image's cosines to task prompts then negatives."""
    p = softmax(scale * np.asarray(cosines, dtype=np.float64))
    win = int(np.argmax(p))
    task_p = float(p[:n_task].sum())
    keep = win < n_task and (min_prob is None or task_p >= min_prob)
    return keep, round(task_p, 4), win


def confident_thresholds(probs: Any, labels: Sequence[int]) -> np.ndarray:
    """Per-class thresholds ``t_k``: mean ``probs[i, k]`` over the rows ``i`` labelled ``k`` (cleanlab's rule).

    A class without rows gets threshold 1 (nothing of it is ever "confident").
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    out = np.ones(p.shape[1])
    for k in range(p.shape[1]):
        rows = y == k
        if rows.any():
            out[k] = p[rows, k].mean()
    return out


def confidence_decision(probs: Sequence[float], label: int, thresholds: Sequence[float]) -> str | None:
    """``"too-easy"``, ``"corrupted"`` or ``None`` (kept) for one edit of class ``label``.

    Dropped when the top confidence exceeds the true class's threshold: too easy if the top
    class is the true one, corrupted otherwise (reference code: ``conf > t[y]``).
    """
    p = np.asarray(probs, dtype=np.float64)
    top = int(np.argmax(p))
    if p[top] > float(thresholds[label]):
        return "too-easy" if top == label else "corrupted"
    return None


class LinearProbe:
    """Multinomial logistic regression (full-batch gradient descent from zero, L2 penalty) on embeddings.

    Deterministic: no random initialisation, no shuffling.

    Example:
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
        >>> LinearProbe(steps=200).fit(x, [0, 0, 1, 1]).predict_proba(x).argmax(1).tolist()
        [0, 0, 1, 1]
    """

    def __init__(self, steps: int = 300, lr: float = 1.0, l2: float = 1e-3) -> None:
        self.steps, self.lr, self.l2 = int(steps), float(lr), float(l2)
        self.weight: np.ndarray | None = None
        self.bias: np.ndarray | None = None

    def fit(self, x: Any, y: Sequence[int], n_classes: int | None = None) -> LinearProbe:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        k = int(n_classes if n_classes is not None else y.max() + 1)
        onehot = np.eye(k)[y]
        w, b = np.zeros((x.shape[1], k)), np.zeros(k)
        for _ in range(self.steps):
            grad = (softmax(x @ w + b) - onehot) / len(x)
            w -= self.lr * (x.T @ grad + self.l2 * w)
            b -= self.lr * grad.sum(0)
        self.weight, self.bias = w, b
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        if self.weight is None or self.bias is None:
            raise RuntimeError("LinearProbe: call fit first")
        return softmax(np.asarray(x, dtype=np.float64) @ self.weight + self.bias)


def _reject_or_note(cand: Sample, step: Any, ok: bool, reason: str | None) -> Sample:
    if not cand.kept:  # rejected earlier: the score is recorded, the first reason stays
        return cand.replace(lineage=cand.lineage + (step,))
    if ok:
        return cand.replace(lineage=cand.lineage + (step,))
    return cand.reject(reason or "", step)


class SemanticFilter(Filter):
    """ALIA's semantic filter over the CLIP similarities a ``clip`` step (``image.clip-score``) computes.

    Args:
        clip: a filter with ``similarity(images, texts) -> cosines`` (``image.clip-score``).
        task_prompts: prompts of the task ("a photo of a bird").
        negative_prompts: generic prompts an edit must not match better.
        min_prob: also require this softmax probability of the task prompts (``None``: argmax only, the paper's).
        field: image field.
    """

    name: ClassVar[str] = "alia.semantic"

    def __init__(self, clip: Any, task_prompts: Sequence[str], negative_prompts: Sequence[str] = NEGATIVE_PROMPTS,
                 min_prob: float | None = None, field: str = "image") -> None:
        self.clip = clip
        self.task_prompts = [str(p) for p in task_prompts]
        self.negative_prompts = [str(p) for p in negative_prompts]
        self.min_prob = None if min_prob is None else float(min_prob)
        self.field = field

    @property
    def model_id(self) -> str | None:
        return getattr(self.clip, "model_id", None) or getattr(self.clip, "model", None)

    def prompts(self) -> list[str]:
        return self.task_prompts + self.negative_prompts

    def cosines(self, images: Sequence[Any]) -> np.ndarray:
        """``(n_images, n_prompts)`` cosine similarities."""
        prompts = self.prompts()
        flat = self.clip.similarity([im for im in images for _ in prompts], prompts * len(images))
        out = np.asarray(flat, dtype=np.float64).reshape(len(images), len(prompts))
        return out

    def __call__(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[Sample]:
        if not candidates:
            return []
        cos = self.cosines([c[self.field] for c in candidates])
        out = []
        for cand, row in zip(candidates, cos):
            if not np.isfinite(row).all():
                raise BadSample(f"{self.name}: CLIP gave a NaN or infinite similarity; try dtype='float32'",
                                sample_id=cand.id, field=self.field)
            ok, task_p, win = semantic_keep(row, len(self.task_prompts), self.min_prob)
            prompts = self.prompts()
            if win >= len(self.task_prompts):
                why = f"CLIP prefers {prompts[win]!r} to the task prompt {self.task_prompts[0]!r} (p={task_p:.3f})"
            else:
                why = f"task-prompt probability {task_p:.3f} < {self.min_prob}"
            step = self.lineage_step({"winner": prompts[win], "cosines": [round(float(v), 4) for v in row]},
                                     score=task_p, kept=ok, reason=None if ok else f"{self.name}: {why}")
            out.append(_reject_or_note(cand, step, ok, None if ok else f"{self.name}: {why}"))
        return out


class ConfidenceFilter(Filter):
    """ALIA's confidence filter: drop edits the originals' classifier finds too easy or corrupted.

    Args:
        predict: ``fn(images) -> (n, n_classes)`` class probabilities (the classifier trained on the originals).
        classes: class names, in the columns' order.
        thresholds: per-class thresholds ``t_k`` (see :func:`confident_thresholds`).
        field: image field; ``label_from``: the ``candidate``'s label (ALIA: the edit keeps its parent's).
    """

    name: ClassVar[str] = "alia.confidence"

    def __init__(self, predict: Any, classes: Sequence[str], thresholds: Sequence[float], field: str = "image",
                 model: str | None = None) -> None:
        self.predict = predict
        self.classes = [str(c) for c in classes]
        self.thresholds = [float(t) for t in thresholds]
        self.field = field
        self.model = model

    @property
    def model_id(self) -> str | None:
        return self.model

    def __call__(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[Sample]:
        if not candidates:
            return []
        index = {c: i for i, c in enumerate(self.classes)}
        for cand in candidates:
            if str(cand.label) not in index:
                raise BadSample(f"{self.name}: label {cand.label!r} is not a class the classifier was trained on "
                                f"({', '.join(self.classes)})", sample_id=cand.id, field="label")
        probs = np.asarray(self.predict([c[self.field] for c in candidates]), dtype=np.float64)
        if probs.shape != (len(candidates), len(self.classes)):
            raise BadSample(f"{self.name}: the classifier returned probabilities of shape {probs.shape}, expected "
                            f"({len(candidates)}, {len(self.classes)})", sample_id=candidates[0].id, field=self.field)
        out = []
        for cand, row in zip(candidates, probs):
            if not np.isfinite(row).all():
                raise BadSample(f"{self.name}: the classifier gave NaN or infinite probabilities",
                                sample_id=cand.id, field=self.field)
            y = index[str(cand.label)]
            top = int(np.argmax(row))
            conf, thr = float(row[top]), self.thresholds[y]
            decision = confidence_decision(row, y, self.thresholds)
            reason = None
            if decision == "too-easy":
                reason = (f"{self.name}: too easy: the classifier trained on the originals predicts the true class "
                          f"{self.classes[y]!r} with confidence {conf:.3f} > its threshold {thr:.3f}")
            elif decision == "corrupted":
                reason = (f"{self.name}: corrupted: the classifier predicts {self.classes[top]!r} with confidence "
                          f"{conf:.3f} > the threshold {thr:.3f} of the true class {self.classes[y]!r}")
            step = self.lineage_step({"predicted": self.classes[top], "threshold": round(thr, 4),
                                      "decision": decision or "kept"},
                                     score=round(conf, 4) if math.isfinite(conf) else conf,
                                     kept=decision is None, reason=reason)
            out.append(_reject_or_note(cand, step, decision is None, reason))
        return out


__all__ = ["NEGATIVE_PROMPTS", "CLIP_SCALE", "softmax", "semantic_keep", "confident_thresholds",
           "confidence_decision", "LinearProbe", "SemanticFilter", "ConfidenceFilter"]
