"""A deterministic text -> text transform that reverses word order.

Small, dependency-free and exactly invertible, it lets the kernel's round trip
(:class:`~crossaug.BackModality`) be exercised and taught without any model.

Example:
    >>> from crossaug import Sample
    >>> ReverseWords()([Sample("s", {"text": "a b c"})], [0])[0].fields["text.reversed"]
    'c b a'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..sample import Sample
from ..transform import Transform


class ReverseWords(Transform):
    """Reverse the order of whitespace-separated words.

    Args:
        in_field: field to read (default ``text``).
        out_field: field to write (default ``text.reversed``).
    """

    name: ClassVar[str] = "text.reverse-words"
    source: ClassVar[str] = "text"
    target: ClassVar[str] = "text"

    def __init__(self, in_field: str = "text", out_field: str = "text.reversed") -> None:
        self.in_field = in_field
        self.out_field = out_field

    def transform_batch(self, samples: Sequence[Sample], seeds: Sequence[int]) -> list[Any]:
        return [" ".join(reversed(s[self.in_field].split())) for s in samples]
