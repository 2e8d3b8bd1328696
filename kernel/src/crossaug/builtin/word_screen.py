"""Word screen: reject generated text that introduces a profane or offensive word.

The word lists are the CC BY 4.0 "List of Dirty, Naughty, Obscene, and Otherwise
Bad Words" (``crossaug/data/blocklists/SOURCE.md``), one file per language. A
candidate is rejected when it contains a listed word or phrase that its parent
does not contain, so inputs that already hold such a word are not punished for it.
Matching is on lower-cased word sequences (NFKC, punctuation split off), so
``"Damn!"`` matches ``damn`` but ``"Scunthorpe"`` does not match a listed substring.

Example:
    >>> introduced_blocked_words("an affecting journey", "a fucking journey")
    ['fucking']
    >>> introduced_blocked_words("damn it", "damn it all")
    []
    >>> "en" in available_languages()
    True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache, lru_cache
from importlib import resources
from typing import ClassVar

from ..errors import ConfigError
from ..filter import Filter
from ..sample import Sample

_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (NFKC, apostrophes kept inside words)."""
    return [w.replace("’", "'") for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower())]


def available_languages() -> list[str]:
    """Language codes with a word list."""
    root = resources.files("crossaug") / "data" / "blocklists"
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".txt"))


@cache
def blocked_phrases(lang: str = "en") -> frozenset[tuple[str, ...]]:
    """The listed words and phrases of ``lang``, each as a tuple of word tokens."""
    path = resources.files("crossaug") / "data" / "blocklists" / f"{lang}.txt"
    if not path.is_file():
        raise ConfigError(f"no word list for language {lang!r}; available: {', '.join(available_languages())}")
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        toks = tuple(words(line))
        if toks:
            out.add(toks)
    return frozenset(out)


def _found(tokens: Sequence[str], phrases: frozenset[tuple[str, ...]],
           longest: dict[str, int]) -> set[tuple[str, ...]]:
    """The ``phrases`` among the word sequences of ``tokens``; ``longest``: the longest phrase's length
    by its first word (only words that start a phrase are looked at)."""
    hits = set()
    for i in range(len(tokens)):
        for n in range(1, min(longest.get(tokens[i], 0), len(tokens) - i) + 1):
            gram = tuple(tokens[i:i + n])
            if gram in phrases:
                hits.add(gram)
    return hits


def introduced_blocked_words(parent: str, candidate: str, langs: Sequence[str] = ("en",),
                             extra: Sequence[str] = ()) -> list[str]:
    """Listed words/phrases present in ``candidate`` but not in ``parent``, sorted.

    Args:
        parent: the input text.
        candidate: the generated text.
        langs: languages whose lists apply (a code-switched sentence needs both).
        extra: more words or phrases to screen (user additions).
    """
    screen = (tuple(langs), tuple(extra))
    if not _screen(*screen)[0]:
        return []
    new = _phrases_in(candidate, screen) - _phrases_in(parent, screen)
    return sorted(" ".join(p) for p in new)


def _phrases_in(text: str, screen: tuple[tuple[str, ...], tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    """The screened phrases in ``text`` (remembered for short texts: words and sentences recur)."""
    return _found_in(text, screen) if len(text) <= 1000 else _found_in.__wrapped__(text, screen)


@lru_cache(maxsize=64)
def _screen(langs: tuple[str, ...], extra: tuple[str, ...]) -> tuple[frozenset[tuple[str, ...]], dict[str, int]]:
    """The phrases screened for ``langs`` and ``extra``, and the longest one's length in words by its
    first word, once per screen (a code-switcher screens every option of every word it may switch)."""
    phrases: set[tuple[str, ...]] = set()
    for lang in langs:
        phrases |= blocked_phrases(lang)
    phrases |= {tuple(words(e)) for e in extra if words(e)}
    by_first: dict[str, int] = {}
    for p in phrases:
        by_first[p[0]] = max(by_first.get(p[0], 0), len(p))
    return frozenset(phrases), by_first


@lru_cache(maxsize=4096)
def _found_in(text: str, screen: tuple[tuple[str, ...], tuple[str, ...]]) -> frozenset[tuple[str, ...]]:
    """The screened phrases in ``text``, once per short text and screen (a parent is compared with each
    of its candidates, a code-switcher screens the same target words again and again)."""
    phrases, longest = _screen(*screen)
    return frozenset(_found(words(text), phrases, longest))


class WordScreen(Filter):
    """Reject candidates that introduce a word from a profanity/slur list absent from the parent.

    The score is the number of introduced listed words (0 passes).

    Args:
        field: text field compared (candidate vs parent).
        langs: word-list languages (see :func:`available_languages`).
        extra: additional words or phrases to screen.

    Example:
        >>> f = WordScreen()
        >>> p = Sample("p", {"text": "an affecting journey"})
        >>> [c.kept for c in f([Sample("a", {"text": "a fucking journey"}),
        ...                     Sample("b", {"text": "an effecting journey"})], [p, p])]
        [False, True]
    """

    name: ClassVar[str] = "text.word-screen"

    def __init__(self, field: str = "text", langs: Sequence[str] = ("en",), extra: Sequence[str] = ()) -> None:
        if isinstance(langs, str):
            langs = [langs]
        self.field = field
        self.langs = [str(x) for x in langs]
        self.extra = [str(x) for x in extra]
        for lang in self.langs:
            blocked_phrases(lang)

    def score_batch(self, candidates: Sequence[Sample], parents: Sequence[Sample]) -> list[float]:
        return [float(len(introduced_blocked_words(str(p.get(self.field) or ""), str(c.get(self.field) or ""),
                                                    self.langs, self.extra)))
                for c, p in zip(candidates, parents)]

    def passes(self, score: float) -> bool:
        return score == 0

    def verdict(self, score: float) -> str:
        return f"{self.name}: introduces {int(score)} listed word(s)"


__all__ = ["WordScreen", "introduced_blocked_words", "blocked_phrases", "available_languages", "words"]
