"""Filter ``audio.spoken-edit-distance``: the paper's edit-distance rule, on spoken forms.

Back-speech compares a sentence with what the ASR heard. Written and spoken forms
differ ("1932" / "nineteen thirty two", "That's" / "that is"), and word
boundaries are not audible ("remains utterly" / "remain sutterly"), so the
plain word edit distance rejects faithful transcripts. This filter maps both
texts through :func:`~crossaug_audio.spoken_form.spoken_form` and counts a
re-segmentation (two words merged into one, one split into two, or the boundary
between two words moved) as a single edit.

Example:
    >>> spoken_word_distance("remains utterly satisfied".split(), "remain sutterly satisfied".split())
    1
    >>> f = SpokenEditDistance()
    >>> heard = "this is a shot of cannery row in nineteen thirty two"
    >>> round(f.distance("This is a shot of cannery row in 1932.", heard), 3)
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import ConfigError, Sample
from crossaug.builtin.edit_distance import EditDistance, levenshtein

from .spoken_form import spoken_form


def spoken_word_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word Levenshtein distance where merging, splitting or re-splitting adjacent words costs 1."""
    rows, cols = len(ref) + 1, len(hyp) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            best = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
            if i >= 2 and ref[i - 2] + ref[i - 1] == hyp[j - 1]:
                best = min(best, d[i - 2][j - 1] + 1)
            if j >= 2 and ref[i - 1] == hyp[j - 2] + hyp[j - 1]:
                best = min(best, d[i - 1][j - 2] + 1)
            if i >= 2 and j >= 2 and ref[i - 2] + ref[i - 1] == hyp[j - 2] + hyp[j - 1]:
                best = min(best, d[i - 2][j - 2] + 1)
            d[i][j] = best
    return d[-1][-1]


class SpokenEditDistance(EditDistance):
    """Reject candidates whose spoken-form edit distance to the parent exceeds ``threshold``.

    Args:
        threshold: largest accepted distance as a fraction of the parent's spoken length
            (Back-Modality paper, Sec. 3.2: 0.2).
        unit: ``word`` (paper; merges and splits cost 1) or ``char`` (spaces ignored).
        field: the text field compared.
        min_distance: smallest accepted distance; above 0 rejects transcripts with the
            same spoken words as the parent (copies).
    """

    name: ClassVar[str] = "audio.spoken-edit-distance"

    def __init__(self, threshold: float = 0.2, unit: str = "word", field: str = "text",
                 min_distance: float = 0.0) -> None:
        super().__init__(threshold=threshold, unit=unit, field=field, min_distance=min_distance)

    def distance(self, reference: str, hypothesis: str) -> float:
        """Spoken-form distance of ``hypothesis`` from ``reference``, relative to the reference length."""
        ref, hyp = spoken_form(reference), spoken_form(hypothesis or "")
        if self.unit == "word":
            return spoken_word_distance(ref.split(), hyp.split()) / max(1, len(ref.split()))
        if self.unit == "char":
            r, h = ref.replace(" ", ""), hyp.replace(" ", "")
            return levenshtein(r, h) / max(1, len(r))
        raise ConfigError(f"unit must be 'word' or 'char', got {self.unit!r}")

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [self.distance(p[self.field], c.get(self.field) or "") for c, p in zip(candidates, parents)]

    def verdict(self, score: float) -> str:
        if score > self.threshold:
            return f"{self.name}: spoken {self.unit} edit distance {score:.3f} > {self.threshold}"
        return (f"{self.name}: copy: spoken {self.unit} edit distance {score:.3f} < min {self.min_distance} "
                "(same spoken words as the input)")
