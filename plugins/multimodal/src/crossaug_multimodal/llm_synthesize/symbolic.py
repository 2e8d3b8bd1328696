"""An image's symbolic text form for a language-only teacher: captions and normalised boxes.

LLaVA (Liu et al., 2023) shows GPT-4 an image through its captions and its objects'
boxes, each as ``label: [x1, y1, x2, y2]`` with coordinates divided by the image size
(0 to 1, three decimals). GPT4Tools gives its teacher the same two kinds of context.

Example:
    >>> format_boxes({"boxes": [[12.0, 8.0, 36.0, 40.0]], "labels": ["a cat"], "scores": [0.9]}, 48, 40)
    'a cat: [0.250, 0.200, 0.750, 1.000]'
    >>> format_captions(["A cat on grass.", " ", "a cat sitting "])
    'A cat on grass.\\na cat sitting'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def format_captions(captions: Sequence[str]) -> str:
    """Non-empty captions, one per line, whitespace collapsed."""
    return "\n".join(c for c in (" ".join(str(x).split()) for x in captions) if c)


def parse_detections(value: Any) -> dict[str, list[Any]]:
    """``{"boxes", "labels", "scores"}`` from ``image.detect``'s JSON (string or mapping)."""
    det = json.loads(value) if isinstance(value, str) else value
    if not isinstance(det, Mapping) or not isinstance(det.get("boxes"), list):
        raise ValueError("detections must be a JSON object with a 'boxes' list")
    boxes = det["boxes"]
    labels = list(det.get("labels") or ["object"] * len(boxes))
    if len(labels) != len(boxes):
        raise ValueError(f"{len(boxes)} boxes but {len(labels)} labels")
    for b in boxes:
        if not isinstance(b, (list, tuple)) or len(b) != 4:
            raise ValueError(f"a box must be [x1, y1, x2, y2], got {b!r}")
    return {"boxes": [[float(v) for v in b] for b in boxes], "labels": [str(x) for x in labels],
            "scores": list(det.get("scores") or [])}


def format_boxes(detections: Any, width: float, height: float) -> str:
    """One ``label: [x1, y1, x2, y2]`` line per box, coordinates divided by the image size (3 decimals)."""
    det = parse_detections(detections)
    lines = []
    for (x0, y0, x1, y1), label in zip(det["boxes"], det["labels"]):
        coords = (x0 / width, y0 / height, x1 / width, y1 / height)
        lines.append(f"{label}: [{', '.join(f'{c:.3f}' for c in coords)}]")
    return "\n".join(lines)


__all__ = ["format_captions", "format_boxes", "parse_detections"]
