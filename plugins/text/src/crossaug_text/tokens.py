"""Word tokens with character offsets, so edits can be applied back onto the original text.

A token is a maximal run of word characters (any script; inner ``'`` and ``-``
kept, as in ``don't`` and ``well-known``), or a single other non-space character
(punctuation, emoji). Rebuilding from spans keeps the original spacing.

Example:
    >>> [t.text for t in tokenize("Don't stop, well-known cats!")]
    ["Don't", 'stop', ',', 'well-known', 'cats', '!']
    >>> replace_spans("a cat sat", [(2, 5, "dog")])
    'a dog sat'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

_TOKEN = re.compile(r"\w+(?:['\u2019\-]\w+)*|[^\w\s]", re.UNICODE)


class Token(NamedTuple):
    """A token and its ``[start, end)`` character span in the text it came from."""

    text: str
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        """True for tokens holding a letter or digit (not punctuation or emoji)."""
        return any(ch.isalnum() for ch in self.text)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into :class:`Token` s with character offsets."""
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def replace_spans(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Replace non-overlapping ``(start, end, new)`` spans of ``text``.

    Raises:
        ValueError: spans overlap or fall outside the text.
    """
    out: list[str] = []
    pos = 0
    for start, end, new in sorted(edits, key=lambda e: (int(e[0]), int(e[1]))):
        start, end = int(start), int(end)
        if start < pos or end < start or end > len(text):
            raise ValueError(f"span [{start}, {end}) overlaps another or lies outside a text of "
                             f"length {len(text)}")
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def match_case(word: str, like: str) -> str:
    """Give ``word`` the capitalisation pattern of ``like`` (upper, title or as is).

    Example:
        >>> match_case("hound", "Dog"), match_case("hound", "DOG"), match_case("hound", "dog")
        ('Hound', 'HOUND', 'hound')
    """
    if len(like) > 1 and like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


__all__ = ["Token", "tokenize", "replace_spans", "match_case"]
