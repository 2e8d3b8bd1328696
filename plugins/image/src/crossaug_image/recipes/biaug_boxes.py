"""Which detected box BiAug edits for each object an LLM listed.

The detector returns boxes with a label (the phrase, or for Grounding DINO the span of
it that fired) and a score. An object takes the detections whose label matches it (same
words, or one a contiguous run of the other's), best score first, and keeps the first
usable one: a box of four finite numbers, not empty, not wholly outside the image,
clipped to the image, covering between ``min_area`` and ``max_area`` of it (a box over
nearly the whole image would repaint the scene, not the object). Objects without a
usable box leave the plan with their reason ("not detected", "box outside the image",
...), which the recipe records.

Example:
    >>> det = {"boxes": [[-4, 2, 20, 30], [0, 0, 48, 40]], "labels": ["cat", "tree"], "scores": [0.4, 0.9]}
    >>> plan, dropped = select_boxes(["cat", "tree", "dog"], det, (48, 40), min_area=0.01, max_area=0.8)
    >>> plan
    [{'object': 'cat', 'box': [0.0, 2.0, 20.0, 30.0], 'score': 0.4, 'label': 'cat'}]
    >>> [d["object"] + ": " + d["reason"] for d in dropped]
    ['tree: box too large (1.000 of the image > max_box_area 0.8)', 'dog: not detected']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` without surrounding punctuation."""
    return [w.strip(".,;:!?\"'()") for w in str(text).lower().split() if w.strip(".,;:!?\"'()")]


def _contains(outer: list[str], inner: list[str]) -> bool:
    n = len(inner)
    return n > 0 and any(outer[i:i + n] == inner for i in range(len(outer) - n + 1))


def label_matches(label: str, obj: str) -> bool:
    """Whether a detection labelled ``label`` is one of ``obj`` (equal words, or one inside the other)."""
    lw, ow = words(label), words(obj)
    return bool(lw) and bool(ow) and (lw == ow or _contains(lw, ow) or _contains(ow, lw))


def check_box(box: Any, size: tuple[int, int], min_area: float, max_area: float) -> tuple[list[float] | None,
                                                                                           str | None]:
    """``(box clipped to the image, None)`` if usable, else ``(None, reason)``.

    Example:
        >>> check_box([50, 0, 60, 10], (48, 40), 0.0, 1.0)
        (None, 'box outside the image')
    """
    w, h = size
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        return None, "malformed box"
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        return None, "malformed box"
    if x1 <= x0 or y1 <= y0:
        return None, "empty box"
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h:
        return None, "box outside the image"
    clipped = [round(max(x0, 0.0), 2), round(max(y0, 0.0), 2), round(min(x1, float(w)), 2),
               round(min(y1, float(h)), 2)]
    bw, bh = clipped[2] - clipped[0], clipped[3] - clipped[1]
    if bw < 1 or bh < 1:
        return None, "box under one pixel inside the image"
    share = bw * bh / float(w * h)
    if share < min_area:
        return None, f"box too small ({share:.3f} of the image < min_box_area {min_area})"
    if share > max_area:
        return None, f"box too large ({share:.3f} of the image > max_box_area {max_area})"
    return clipped, None


def select_boxes(objects: Sequence[str], detections: Mapping[str, Sequence[Any]], size: tuple[int, int],
                 min_area: float = 0.0, max_area: float = 1.0) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """The plan (one usable box per object, in the objects' order) and the objects dropped with their reason."""
    boxes = list(detections.get("boxes") or [])
    labels = [str(x) for x in (detections.get("labels") or [])]
    scores = [float(x) for x in (detections.get("scores") or [])]
    plan: list[dict[str, Any]] = []
    dropped: list[dict[str, str]] = []
    for obj in objects:
        mine = [k for k in range(min(len(boxes), len(labels), len(scores))) if label_matches(labels[k], obj)]
        mine.sort(key=lambda k: -scores[k])  # stable: ties keep the detector's order
        if not mine:
            dropped.append({"object": obj, "reason": "not detected"})
            continue
        first: str | None = None
        for k in mine:
            box, why = check_box(boxes[k], size, min_area, max_area)
            if box is not None:
                plan.append({"object": obj, "box": box, "score": round(scores[k], 6), "label": labels[k]})
                break
            first = first or why
        else:
            dropped.append({"object": obj, "reason": str(first)})
    return plan, dropped


def choose_objects(n_plan: int, k: int | None, rng: np.random.Generator) -> list[int]:
    """Indices of the planned objects to edit: all (``k`` None or >= ``n_plan``), else ``k`` drawn uniformly.

    Example:
        >>> choose_objects(3, None, np.random.default_rng(0)), len(choose_objects(5, 2, np.random.default_rng(0)))
        ([0, 1, 2], 2)
    """
    if k is None or k >= n_plan:
        return list(range(n_plan))
    return sorted(int(i) for i in rng.choice(n_plan, size=k, replace=False))


__all__ = ["words", "label_matches", "check_box", "select_boxes", "choose_objects"]
