"""Minimum-length filter: reject generated sentences with fewer than ``min_words`` words (GMDA: 5).

GMDA drops generated sentences that are too short to carry a useful annotation. Words
are whitespace-separated tokens that hold a letter or a digit (a lone ``-`` or ``.`` is not a word).

Example:
    >>> from crossaug import Sample
    >>> f = MinWords(min_words=5)
    >>> p = Sample("p", {"text": "x"})
    >>> [c.reason for c in f([Sample("a", {"text": "Kevin Durant in Oklahoma ."}),
    ...                       Sample("b", {"text": "Kevin Durant lands in Oklahoma today"})], [p, p])]
    ['image.min-words: 4 words < 5', None]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from crossaug import BadSample, ConfigError, Filter, Sample


def count_words(text: str) -> int:
    """Whitespace tokens holding at least one letter or digit."""
    return sum(any(ch.isalnum() for ch in tok) for tok in text.split())


class MinWords(Filter):
    """Reject candidates whose text has fewer than ``min_words`` words.

    Args:
        min_words: smallest accepted word count (default 5, GMDA's "fewer than 5 words").
        field: the text field counted.
    """

    name: ClassVar[str] = "image.min-words"

    def __init__(self, min_words: int = 5, field: str = "text") -> None:
        if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 1:
            raise ConfigError(f"{self.name}: min_words must be a positive integer, got {min_words!r}")
        self.min_words = min_words
        self.field = field

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        out = []
        for c in candidates:
            text = c.get(self.field)
            if not isinstance(text, str):
                raise BadSample(f"{self.name}: no text to count", sample_id=c.id, field=self.field)
            out.append(float(count_words(text)))
        return out

    def passes(self, score: float) -> bool:
        return score >= self.min_words

    def verdict(self, score: float) -> str:
        return f"{self.name}: {int(score)} words < {self.min_words}"


__all__ = ["MinWords", "count_words"]
