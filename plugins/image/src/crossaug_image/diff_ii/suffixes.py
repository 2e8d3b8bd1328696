"""Prompt suffixes from captions of the training set (Diff-II, Sec. 3.3).

The paper captions the training images and has a language model summarise the
captions into short context phrases ("in the snow", "on a wooden table") that
diversify the first denoising stage. Here a captioner transform produces the
captions and a *summariser* turns them into suffixes: by default
:func:`context_phrases` (rule-based: what follows the class name); users plug in
their own (e.g. an LLM call) as an importable ``fn(captions, label) -> list[str]``.

Example:
    >>> context_phrases(["a photo of a persian cat sitting on a sofa", "a persian cat in the snow",
    ...                  "a photo of a persian cat"], "persian cat")
    ['sitting on a sofa', 'in the snow']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from crossaug.importing import import_callable

STOP = {"a", "an", "the", "of", "photo", "picture", "image", "and", "with"}


def context_phrases(captions: Sequence[str], label: Any, max_words: int = 8) -> list[str]:
    """The text after the class name in each caption (or the whole caption without it), deduplicated."""
    name = str(label).replace("_", " ").lower().strip()
    out: list[str] = []
    for cap in captions:
        text = " ".join(cap.lower().split())
        idx = text.find(name) if name else -1
        rest = text[idx + len(name):] if idx >= 0 else text
        rest = re.sub(r"^[\s,.;:-]+|[\s,.;:-]+$", "", rest)
        words = rest.split()[:max_words]
        if not words or all(w in STOP for w in words):
            continue
        phrase = " ".join(words)
        if phrase not in out:
            out.append(phrase)
    return out


def get_summariser(name: str | None) -> Callable[[Sequence[str], Any], list[str]]:
    """The summariser named ``"module:function"`` (``None``: :func:`context_phrases`)."""
    return context_phrases if not name else import_callable(name)


def suffixes_for_class(captions: Sequence[str], label: Any, summariser: str | None = None,
                       limit: int = 32) -> list[str]:
    """Summarise one class's captions into at most ``limit`` suffixes."""
    result = get_summariser(summariser)(list(captions), label)
    return [str(s).strip() for s in result if str(s).strip()][:limit]


__all__ = ["context_phrases", "get_summariser", "suffixes_for_class"]
