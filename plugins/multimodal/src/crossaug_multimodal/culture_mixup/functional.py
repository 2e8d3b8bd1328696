"""Culture Mixup image side, the pure part: boxes, label matching, region pasting, text switches.

When a caption is code-switched (``"a burger on a plate"`` -> ``"a jiaozi on a
plate"``, text plugin ``text.code-switch``), the image must show the switched
concept too. Given the box of the source concept in the image and a donor
region showing the target concept, the donor crop is resized to the box and
pasted there.

The switch spec is the text plugin's: ``{"start", "end", "source", "target",
"concept", "level"}`` with character offsets into the ORIGINAL text.

Example:
    >>> import numpy as np
    >>> img = np.zeros((4, 6), np.uint8); donor = np.full((2, 2), 7, np.uint8)
    >>> out = paste_region(img, [2, 1, 4, 3], donor, [0, 0, 2, 2])
    >>> out[1:3, 2:4].tolist(), int(img.sum())
    ([[7, 7], [7, 7]], 0)
    >>> apply_switches("a burger here", [{"start": 2, "end": 8, "source": "burger", "target": "jiaozi"}])
    'a jiaozi here'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def normalise_label(label: Any) -> str:
    """Lower case, ``_``/``-`` as spaces, single spaces (``"Hot_Dog"`` -> ``"hot dog"``)."""
    return " ".join(str(label).replace("_", " ").replace("-", " ").lower().split())


def label_matches(label: str, word: str) -> bool:
    """Whether a box label names ``word`` (exact after normalising, or a plain English plural).

    Example:
        >>> label_matches("dumpling", "Dumplings"), label_matches("dog", "hot dog")
        (True, False)
    """
    a, b = normalise_label(label), normalise_label(word)
    if not a or not b:
        return False
    return a == b or b in (a + "s", a + "es") or a in (b + "s", b + "es")


def read_boxes(value: Any) -> list[dict[str, Any]]:
    """Boxes from sample metadata as ``[{"label", "box": [x0, y0, x1, y1], "concept"?}]``.

    Accepts dicts with ``label`` (or ``concept``) and ``box`` (or ``bbox``), and
    lists ``[label, x0, y0, x1, y1]``. Raises ``ValueError`` on anything else.

    Example:
        >>> read_boxes([["dog", 0, 0, 4, 4], {"label": "cat", "bbox": [1, 1, 3, 3], "concept": "cat.n.01"}])
        [{'label': 'dog', 'box': [0, 0, 4, 4]}, {'label': 'cat', 'box': [1, 1, 3, 3], 'concept': 'cat.n.01'}]
    """
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"boxes must be a list, got {type(value).__name__}")
    out = []
    for item in value:
        if isinstance(item, Mapping):
            label = item.get("label", item.get("concept"))
            box = item.get("box", item.get("bbox"))
            entry: dict[str, Any] = {"label": label, "box": box}
            if item.get("concept") is not None:
                entry["concept"] = item["concept"]
        elif isinstance(item, (list, tuple)) and len(item) == 5:
            entry = {"label": item[0], "box": list(item[1:])}
        else:
            raise ValueError(f"cannot read box {item!r}; expected {{'label', 'box'}} or [label, x0, y0, x1, y1]")
        if not isinstance(entry["label"], str) or not entry["label"].strip():
            raise ValueError(f"box {item!r} has no label")
        try:
            coords = [float(v) for v in entry["box"]]
        except (TypeError, ValueError):
            raise ValueError(f"box {item!r} needs four numbers [x0, y0, x1, y1]") from None
        if len(coords) != 4:
            raise ValueError(f"box {item!r} needs four numbers [x0, y0, x1, y1]")
        if coords[2] <= coords[0] or coords[3] <= coords[1]:
            raise ValueError(f"box {item!r} must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0")
        entry["box"] = [int(round(v)) for v in coords]
        out.append(entry)
    return out


def paste_region(image: np.ndarray, box: Sequence[int], donor: np.ndarray, donor_box: Sequence[int]) -> np.ndarray:
    """A copy of ``image`` with ``donor[donor_box]`` resized (bilinear) into ``box``.

    Both images are ``HxW`` or ``HxWxC`` uint8 arrays; a grey donor is replicated
    into colour images, a colour donor is converted to grey (ITU-R 601) for grey images.
    """
    from PIL import Image

    out = np.array(image, dtype=np.uint8, copy=True)
    h, w = out.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    dx0, dy0, dx1, dy1 = (int(v) for v in donor_box)
    crop = np.asarray(donor, dtype=np.uint8)[max(0, dy0):dy1, max(0, dx0):dx1]
    if x1 <= x0 or y1 <= y0 or crop.size == 0:
        raise ValueError(f"empty region: box {list(box)} in {w}x{h}, donor box {list(donor_box)}")
    pil = Image.fromarray(np.ascontiguousarray(crop))
    if out.ndim == 3 and pil.mode != "RGB":
        pil = pil.convert("RGB")
    elif out.ndim == 2 and pil.mode != "L":
        pil = pil.convert("L")
    patch = np.asarray(pil.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR))
    out[y0:y1, x0:x1] = patch
    return out


def apply_switches(text: str, switches: Sequence[Mapping[str, Any]]) -> str:
    """Replace each switch's ``[start, end)`` span of ``text`` by its ``target`` (right to left).

    Raises ``ValueError`` when a recorded ``source`` is not at its offsets.
    """
    out = text
    for sw in sorted(switches, key=lambda s: -int(s["start"])):
        start, end = int(sw["start"]), int(sw["end"])
        if text[start:end] != sw["source"]:
            raise ValueError(f"switch source {sw['source']!r} not found at [{start}, {end})")
        out = out[:start] + str(sw["target"]) + out[end:]
    return out


__all__ = ["normalise_label", "label_matches", "read_boxes", "paste_region", "apply_switches"]
