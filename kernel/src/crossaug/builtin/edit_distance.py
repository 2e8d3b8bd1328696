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
    """Minimum number of insertions, deletions and substitutions turning ``a`` into ``b`` (items
    compared with ``==``; hashable items take a bit-parallel way, one step per item of the shorter).

    The common prefix and suffix are set aside first (they cost nothing), then the rest is
    computed by Myers' bit-vector algorithm in Hyyrö's formulation (one Python integer as the
    column of the dynamic-programming table): the same integer as the table itself.
    """
    start, end_a, end_b = 0, len(a), len(b)
    while start < end_a and start < end_b and a[start] == b[start]:
        start += 1
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    try:
        return _bit_parallel(a, b)
    except TypeError:  # an unhashable item: the table, row by row
        return _table(a, b)


def _bit_parallel(a: Sequence[object], b: Sequence[object]) -> int:
    """Levenshtein distance of non-empty ``a`` and ``b`` by Myers (1999) / Hyyrö (2003): bit ``i`` of
    ``vp``/``vn`` says the table's column goes up/down by one at row ``i`` of ``a``."""
    match: dict[object, int] = {}
    for i, x in enumerate(a):
        match[x] = match.get(x, 0) | (1 << i)
    m = len(a)
    mask, last = (1 << m) - 1, 1 << (m - 1)
    vp, vn, dist = mask, 0, m
    for y in b:
        eq = match.get(y, 0)
        xv = eq | vn
        xh = (((eq & vp) + vp) ^ vp) | eq
        hp = vn | ~(xh | vp)
        hn = vp & xh
        if hp & last:
            dist += 1
        elif hn & last:
            dist -= 1
        hp = (hp << 1) | 1
        hn <<= 1
        vp = (hn | ~(xv | hp)) & mask
        vn = hp & xv
    return dist


def _table(a: Sequence[object], b: Sequence[object]) -> int:
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
    ref, hyp = _units(reference, unit, normalise), _units(hypothesis, unit, normalise)
    return levenshtein(ref, hyp) / max(1, len(ref))


def _units(text: str, unit: str, normalise: bool) -> Sequence[str]:
    """What :func:`normalised_edit_distance` compares: the (normalised) text's words or characters."""
    if normalise:
        text = normalise_text(text)
    if unit == "word":
        return text.split()
    if unit == "char":
        return text
    raise ConfigError(f"unit must be 'word' or 'char', got {unit!r}")


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
        """:func:`normalised_edit_distance` of each candidate to its parent (a parent, shared by its
        candidates, normalised once)."""
        refs: dict[str, Sequence[str]] = {}
        out = []
        for c, p in zip(candidates, parents):
            text = p[self.field]
            ref = refs.get(text)
            if ref is None:
                ref = refs[text] = _units(text, self.unit, self.normalise)
            out.append(levenshtein(ref, _units(c.get(self.field) or "", self.unit, self.normalise)) / max(1, len(ref)))
        return out

    def passes(self, score: float) -> bool:
        return self.min_distance <= score <= self.threshold

    def verdict(self, score: float) -> str:
        if score > self.threshold:
            return f"{self.name}: {self.unit} edit distance {score:.3f} > {self.threshold}"
        return f"{self.name}: {self.unit} edit distance {score:.3f} < min {self.min_distance}"
