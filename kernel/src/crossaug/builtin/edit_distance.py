"""Edit distance between texts, and the filter that rejects candidates drifting too far.

The Back-Modality paper discards back-speech outputs whose edit distance from the
original exceeds 20% of its length; ``EditDistance`` implements that rule at word
level (default) or character level.

Example:
    >>> levenshtein("kitten".split(), "sitting".split()), levenshtein("kitten", "sitting")
    (1, 3)
    >>> normalised_edit_distance("the cat sat", "the cat sat down")
    0.3333333333333333
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import ClassVar

from ..errors import ConfigError
from ..filter import Filter
from ..sample import Sample


def levenshtein(a: Sequence[object], b: Sequence[object]) -> int:
    """Minimum number of insertions, deletions and substitutions turning ``a`` into ``b``."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def normalise_text(text: str) -> str:
    """Lower-case, drop punctuation, collapse spaces (how ASR output is compared)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.replace("'", "").split())


def normalised_edit_distance(reference: str, hypothesis: str, unit: str = "word",
                             normalise: bool = True) -> float:
    """Edit distance divided by the reference length (in words or characters)."""
    if normalise:
        reference, hypothesis = normalise_text(reference), normalise_text(hypothesis)
    if unit == "word":
        ref, hyp = reference.split(), hypothesis.split()
    elif unit == "char":
        ref, hyp = list(reference), list(hypothesis)
    else:
        raise ConfigError(f"unit must be 'word' or 'char', got {unit!r}")
    return levenshtein(ref, hyp) / max(1, len(ref))


class EditDistance(Filter):
    """Reject candidates whose normalised edit distance to the parent exceeds ``threshold``.

    Args:
        threshold: largest accepted distance as a fraction of the parent's length
            (Back-Modality paper: 0.2).
        unit: ``word`` (paper) or ``char``.
        field: the text field compared.
        min_distance: smallest accepted distance; set above 0 to reject outputs
            identical to the parent.
        normalise: compare lower-cased text without punctuation.
    """

    name: ClassVar[str] = "text.edit-distance"

    def __init__(self, threshold: float = 0.2, unit: str = "word", field: str = "text",
                 min_distance: float = 0.0, normalise: bool = True) -> None:
        if unit not in ("word", "char"):
            raise ConfigError(f"unit must be 'word' or 'char', got {unit!r}")
        if threshold < 0 or min_distance < 0 or min_distance > threshold:
            raise ConfigError(f"need 0 <= min_distance <= threshold, got {min_distance}, {threshold}")
        self.threshold = float(threshold)
        self.unit = unit
        self.field = field
        self.min_distance = float(min_distance)
        self.normalise = normalise

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [normalised_edit_distance(p[self.field], c.get(self.field) or "", self.unit, self.normalise)
                for c, p in zip(candidates, parents)]

    def passes(self, score: float) -> bool:
        return self.min_distance <= score <= self.threshold

    def verdict(self, score: float) -> str:
        if score > self.threshold:
            return f"{self.name}: {self.unit} edit distance {score:.3f} > {self.threshold}"
        return f"{self.name}: {self.unit} edit distance {score:.3f} < min {self.min_distance}"
