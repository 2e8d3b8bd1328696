"""Spans of a text that word-level augmentations must never edit.

EDA, token replacement and code-switching all skip the same spans: URLs and bare
domains (``https://example.com/a``, ``example.com``), e-mail addresses, ``@handles``,
``#hashtags``, numbers and prices (``$999``, ``3.5%``, ``12:30``) and code-like
tokens (text in backticks, ``snake_case``, ``camelCase``, ``call()``, ``a.b.c``,
paths, ``<tags>``). A word overlapping one of these spans is left as it is; word
edits around it keep it intact.

Example:
    >>> [(k, t) for _, _, k, t in protected_spans("Ask @john_doe: $999 at example.com #deal")]
    [('handle', '@john_doe'), ('number', '$999'), ('url', 'example.com'), ('hashtag', '#deal')]
    >>> overlaps_protected(0, 3, protected_spans("Ask @john_doe"))
    False
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple


class ProtectedSpan(NamedTuple):
    """A ``[start, end)`` span of the text, its kind and its text."""

    start: int
    end: int
    kind: str
    text: str


#: the alternatives of the last ``code`` pattern, each with the text any match of it contains
_CODE_PARTS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (r"(?<!\S)(?:~?/[\w.-]+){2,}/?", lambda t: "/" in t),
    (r"\w+(?:\.\w+)*\([^()\s]*\)", lambda t: "(" in t and ")" in t),
    (r"</?[A-Za-z][^<>\n]{0,80}>", lambda t: "<" in t and ">" in t),
    (r"\b\w*_\w+\b", lambda t: "_" in t),
    (r"\b[a-z]+[A-Z]\w*\b", lambda t: _LOWER_UPPER.search(t) is not None),
    (r"\b\w+(?:\.\w+){2,}\b", lambda t: t.count(".") >= 2),
    (r"\S*(?:==|!=|->|=>|::|\+\+|&&|\|\|)\S*", lambda t: any(op in t for op in _OPERATORS)),
)

#: (kind, pattern), tried in this order; earlier kinds win overlaps.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("code", re.compile(r"`[^`\n]*`")),
    ("url", re.compile(r"(?:[a-zA-Z][a-zA-Z0-9+.-]*://|www\.)[^\s<>\"']+", re.UNICODE)),
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("url", re.compile(r"(?<![\w@.])[\w-]+(?:\.[\w-]+)*\.[a-z]{2,24}\b(?:/[^\s<>\"']*)?", re.UNICODE)),
    ("handle", re.compile(r"(?<![\w@])@\w+", re.UNICODE)),
    ("hashtag", re.compile(r"(?<![\w#&])#\w+", re.UNICODE)),
    ("number", re.compile(r"(?<!\w)(?:[$€£¥₹₺]\s?)?\d(?:[\d,.:/-]*\d)?(?:%|[$€£¥₹₺])?", re.UNICODE)),
    ("code", re.compile("|".join(p for p, _ in _CODE_PARTS), re.UNICODE)),
)

_OPERATORS = ("==", "!=", "->", "=>", "::", "++", "&&", "||")
_DOT_LETTER, _DIGIT, _LOWER_UPPER = re.compile(r"\.[a-z]"), re.compile(r"\d"), re.compile("[a-z][A-Z]")
#: per pattern of PATTERNS, a quick test that is false only where the pattern cannot match
_MAY_MATCH: tuple[Callable[[str], Any], ...] = (
    lambda t: "`" in t, lambda t: "://" in t or "www." in t, lambda t: "@" in t, _DOT_LETTER.search,
    lambda t: "@" in t, lambda t: "#" in t, _DIGIT.search, lambda t: True)


@functools.lru_cache(maxsize=128)
def _code_pattern(present: tuple[bool, ...]) -> re.Pattern[str]:
    """The code pattern without the alternatives that cannot match (same matches: they never win)."""
    return re.compile("|".join(p for (p, _), on in zip(_CODE_PARTS, present) if on) or "(?!)", re.UNICODE)


#: what every match of every pattern contains somewhere: one of these characters or a digit, ``www.``,
#: a dot before a word character, or a lower-case letter before a capital (``[a-z][A-Z]``)
_SPAN_CHARS, _DOT_WORD, _UPPER = re.compile(r"[`@#/(<_=>:+&|\d]"), re.compile(r"\.\w"), re.compile("[A-Z]")


def may_have_spans(text: str) -> bool:
    """Whether ``text`` holds something every protected span contains (``False``: it has none).

    One regular expression with these five alternatives says the same, tried at every character;
    a character class, a substring and a literal-led pattern are scanned at C speed, and capitals
    after the first character are few in prose (one ``lower()`` shows there are none), so this
    takes about a third of its time.

    Example:
        >>> may_have_spans("The quick brown fox."), may_have_spans("Use camelCase"), may_have_spans("in 2024")
        (False, True, True)
    """
    if _SPAN_CHARS.search(text) is not None or "www." in text or _DOT_WORD.search(text) is not None:
        return True
    rest = text[1:]
    if rest.lower() == rest:  # no capital after the first character (lower() would change it)
        return False
    for m in _UPPER.finditer(text, 1):
        if "a" <= text[m.start() - 1] <= "z":
            return True
    return False


def protected_spans(text: str) -> list[ProtectedSpan]:
    """Non-overlapping protected spans of ``text``, sorted by start (see the module docstring)."""
    if not may_have_spans(text):  # most sentences: a few quick scans instead of one per pattern
        return []
    taken: list[ProtectedSpan] = []
    for (kind, pattern), may_match in zip(PATTERNS, _MAY_MATCH):
        if not may_match(text):  # most texts hold no URL, handle or code: skip the scans that cannot match
            continue
        if pattern is PATTERNS[-1][1]:
            present = tuple(bool(test(text)) for _, test in _CODE_PARTS)
            if not any(present):  # no code-like alternative can match (a plain sentence)
                continue
            pattern = _code_pattern(present)
        for m in pattern.finditer(text):
            s, e = m.span()
            if e > s and not any(s < t.end and t.start < e for t in taken):
                taken.append(ProtectedSpan(s, e, kind, m.group()))
    return sorted(taken)


def overlaps_protected(start: int, end: int, spans: Sequence[ProtectedSpan]) -> bool:
    """Whether ``[start, end)`` overlaps one of ``spans`` (sorted by start)."""
    k = bisect.bisect_left([s.start for s in spans], end)
    return any(spans[i].end > start for i in range(max(0, k - 1), k)) or any(
        s.start < end and start < s.end for s in spans[:k])


def unprotected(ranges: Iterable[tuple[int, int]], spans: Sequence[ProtectedSpan]) -> list[bool]:
    """For ``[start, end)`` ranges in text order (sorted by start, as words and tokens are), whether
    each overlaps none of ``spans`` (sorted and non-overlapping, as :func:`protected_spans` gives
    them): :func:`overlaps_protected` negated per range, in one pass over both.

    Example:
        >>> unprotected([(0, 3), (4, 13), (14, 17)], protected_spans("Ask @john_doe now"))
        [True, False, True]
    """
    out = []
    j, n = 0, len(spans)
    for start, end in ranges:
        while j < n and spans[j].end <= start:  # spans wholly before this range (and so before the next)
            j += 1
        out.append(not (j < n and spans[j].start < end))  # spans[j] is the only one that can overlap it
    return out


def without_protected(text: str, spans: Sequence[ProtectedSpan] | None = None) -> str:
    """``text`` with every protected span blanked to spaces (what language detection reads).

    Example:
        >>> without_protected("see https://x.org now").split()
        ['see', 'now']
    """
    spans = protected_spans(text) if spans is None else spans
    out = list(text)
    for s in spans:
        out[s.start:s.end] = " " * (s.end - s.start)
    return "".join(out)


__all__ = ["ProtectedSpan", "PATTERNS", "protected_spans", "may_have_spans", "overlaps_protected", "unprotected",
           "without_protected"]
