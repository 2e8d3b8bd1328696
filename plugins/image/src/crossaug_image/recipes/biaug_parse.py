"""Reading BiAug's language-model answers: an object list, an attribute value and its negative.

Language models answer loosely, so both parsers accept the usual shapes (a JSON list
or object, bullet or numbered lines, ``key: value`` lines, ``a | b``) and keep only
short phrases of letters (at most ``max_words`` words, articles dropped, lower case).
An answer they cannot read comes back with a ``problem`` (the recipe's rejection
reason) instead of raising: a model's malformed answer is a rejected candidate, not
an error of the run.

Example:
    >>> parse_objects("1. A man\\n2. the wooden table.\\n3. plates and forks")
    ParsedObjects(objects=['man', 'wooden table', 'plates', 'forks'], skipped=[], problem=None)
    >>> parse_attribute("red\\nnegative: Green", "apple")
    ParsedAttribute(value='red', negative='green', problem=None)
    >>> parse_attribute("value: red apple\\nnegative: red", "apple").problem
    'the negative equals the value'
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

#: Longest object name / attribute value kept, in words.
MAX_OBJECT_WORDS = 4
MAX_VALUE_WORDS = 3

_BULLET = re.compile(r"^\s*(?:[-*\u2022]+|\(?\d+[.):]|[a-z][.)])\s+", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:a|an|the|some)\s+")
_PHRASE = re.compile(r"[a-z][a-z'-]*(?: [a-z][a-z'-]*)*")
_LABEL = re.compile(r"^\s*(?:objects?|answer|list)\s*:\s*", re.IGNORECASE)
_KEY = re.compile(r"^\s*(value|positive|attribute|new value|hard negative|negative value|negative)\s*[:=]\s*(.*)$",
                  re.IGNORECASE)


class ParsedObjects(NamedTuple):
    """Object names read from an answer, items that were not names, and why nothing was read (or ``None``)."""

    objects: list[str]
    skipped: list[str]
    problem: str | None


class ParsedAttribute(NamedTuple):
    """An attribute value and its hard negative, or ``problem`` saying why the answer is malformed."""

    value: str | None
    negative: str | None
    problem: str | None


def clean_phrase(text: Any, max_words: int) -> str | None:
    """``text`` as a short lower-case phrase of letters (bullets, quotes, articles dropped), else ``None``.

    Example:
        >>> clean_phrase(' "The Red-Brick house." ', 4), clean_phrase("42 cats", 4)
        ('red-brick house', None)
        >>> clean_phrase("one two three four five", 4) is None
        True
    """
    if not isinstance(text, str):
        return None
    t = _BULLET.sub("", text.strip()).strip().strip("\"'`*_").strip()
    t = re.sub(r"[\s.!?;:,]+$", "", t).strip().strip("\"'`*_").strip().lower()
    t = _ARTICLE.sub("", " ".join(t.split()))
    if not t or not _PHRASE.fullmatch(t) or len(t.split()) > max_words:
        return None
    return t


def _short(answer: str) -> str:
    flat = " ".join(answer.split())
    return repr(flat if len(flat) <= 60 else flat[:59] + "…")


def _json_value(answer: str, open_: str, close: str) -> Any:
    start, end = answer.find(open_), answer.rfind(close)
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(answer[start:end + 1])
    except ValueError:
        return None


def parse_objects(answer: str, max_objects: int = 8, max_words: int = MAX_OBJECT_WORDS) -> ParsedObjects:
    """The object names listed in ``answer``, in order, without repeats, at most ``max_objects``."""
    if not isinstance(answer, str) or not answer.strip():
        return ParsedObjects([], [], "empty answer")
    found = _json_value(answer, "[", "]")
    if isinstance(found, list):
        raw = [x for x in found if isinstance(x, str)] if all(isinstance(x, str) for x in found) else []
    else:
        lines = [_LABEL.sub("", line) for line in answer.splitlines() if line.strip()]
        raw = [part for line in lines for part in re.split(r"[,;]|\s+and\s+|\s+&\s+", line)]
    objects: list[str] = []
    skipped: list[str] = []
    for item in raw:
        if not item.strip():
            continue
        name = clean_phrase(item, max_words)
        if name is None:
            skipped.append(" ".join(item.split()))
        elif name not in objects:
            objects.append(name)
    if not objects:
        return ParsedObjects([], skipped, f"no object names in the answer {_short(answer)}")
    return ParsedObjects(objects[:max_objects], skipped, None)


def _without_object(value: str, obj: str) -> str:
    """``value`` without a trailing ``obj`` ("red apple" -> "red")."""
    words, tail = value.split(), obj.lower().split()
    if len(words) > len(tail) and words[-len(tail):] == tail:
        return " ".join(words[:-len(tail)])
    return value


def parse_attribute(answer: str, obj: str, max_words: int = MAX_VALUE_WORDS) -> ParsedAttribute:
    """The value and hard negative in ``answer`` (``value: ...`` / ``negative: ...``, JSON, or ``a | b``).

    A first line without a key is the value (the request ends with ``value:``).
    """
    if not isinstance(answer, str) or not answer.strip():
        return ParsedAttribute(None, None, "empty answer")
    value = negative = None
    found = _json_value(answer, "{", "}")
    if isinstance(found, dict):
        low = {str(k).lower().strip(): v for k, v in found.items()}
        value = low.get("value", low.get("positive"))
        negative = low.get("negative", low.get("hard negative"))
    else:
        lines = [line for line in answer.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            m = _KEY.match(line)
            if m:
                key = m.group(1).lower()
                if "negative" in key:
                    negative = negative if negative is not None else m.group(2)
                else:
                    value = value if value is not None else m.group(2)
            elif i == 0:
                parts = [p for p in re.split(r"\s*(?:\||;|/|\bvs\.?\b|\bversus\b)\s*", line) if p.strip()]
                if len(parts) == 2 and negative is None:
                    value, negative = parts
                else:
                    value = line
    v = clean_phrase(value, max_words + len(obj.split()))
    n = clean_phrase(negative, max_words + len(obj.split()))
    v = None if v is None else _without_object(v, obj)
    n = None if n is None else _without_object(n, obj)
    v = v if v is not None and len(v.split()) <= max_words else None
    n = n if n is not None and len(n.split()) <= max_words else None
    if v is None or n is None:
        missing = " and ".join(w for w, x in (("value", v), ("negative", n)) if x is None)
        return ParsedAttribute(v, n, f"no {missing} in the answer {_short(answer)}")
    if v == n:
        return ParsedAttribute(v, n, "the negative equals the value")
    return ParsedAttribute(v, n, None)


__all__ = ["ParsedObjects", "ParsedAttribute", "clean_phrase", "parse_objects", "parse_attribute",
           "MAX_OBJECT_WORDS", "MAX_VALUE_WORDS"]
