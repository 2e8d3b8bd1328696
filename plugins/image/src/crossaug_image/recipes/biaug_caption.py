"""BiAug's attribute-augmented captions: the object described with a new attribute value.

Where the caption names the object (its words, the last one possibly plural), the value
goes before the first mention and an ``a``/``an`` in front follows the value's first
letter ("a man eating an apple" + red -> "a man eating a red apple"); a caption that
already says the value there is left as it is. Where the caption does not name the
object (BiAug lists objects captions leave out), a sentence is appended from
``append_template`` ("... The plate is round."). The hard-negative caption is the same
construction with the negative value.

Example:
    >>> attribute_caption("A man eating an apple.", "apple", "red")
    'A man eating a red apple.'
    >>> attribute_caption("a man eating at a table", "plate", "round")
    'a man eating at a table. The plate is round.'
"""

from __future__ import annotations

import re

#: Sentence appended when the caption does not name the object (ours).
APPEND_TEMPLATE = "{caption} The {object} is {value}."


def article_for(value: str) -> str:
    """``an`` before a vowel letter, else ``a`` (spelling rule, not pronunciation)."""
    return "an" if value[:1].lower() in "aeiou" else "a"


def _mention(caption: str, obj: str) -> re.Match[str] | None:
    parts = obj.lower().split()
    if not parts:
        return None
    body = r"\s+".join([re.escape(p) for p in parts[:-1]] + [re.escape(parts[-1]) + r"(?:e?s)?"])
    return re.search(r"(?<![\w-])" + body + r"(?![\w-])", caption, re.IGNORECASE)


def attribute_caption(caption: str, obj: str, value: str, append_template: str = APPEND_TEMPLATE) -> str:
    """``caption`` with ``obj`` given attribute ``value`` (see the module docstring)."""
    caption = " ".join(caption.split())
    m = _mention(caption, obj)
    if m is None:
        base = caption if caption[-1:] in ".!?" else caption + "."
        return append_template.format(caption=base, object=obj, value=value)
    before, mention, after = caption[:m.start()], m.group(0), caption[m.end():]
    head = before.split()
    if [w.lower() for w in head[-len(value.split()):]] == value.lower().split():
        return caption  # the caption already gives this value
    if head and head[-1].lower() in ("a", "an"):
        art = article_for(value)
        head[-1] = art.capitalize() if head[-1][0].isupper() else art
        before = " ".join(head) + " "
    if not before and mention[:1].isupper():  # the object opens the caption: the value takes its capital
        value, mention = value[:1].upper() + value[1:], mention[:1].lower() + mention[1:]
    return f"{before}{value} {mention}{after}"


__all__ = ["attribute_caption", "article_for", "APPEND_TEMPLATE"]
