"""Text preparation for TTS: what can be spoken, and splitting long text into chunks.

Example:
    >>> split_for_tts("One two. Three, four five; six.", max_chars=12)
    ['One two.', 'Three,', 'four five;', 'six.']
    >>> speakable_problem("?!... 🙂")[:40]
    'nothing to speak: the text has no letter'
    >>> speakable_problem("Привет мир")[:49], speakable_problem("Hi there")
    ('text is in a script an English voice cannot speak', None)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=[–—-]\s)")


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


def speakable_problem(text: str, latin_only: bool = True) -> str | None:
    """Why ``text`` cannot be spoken (``None`` when it can).

    Args:
        text: the input text.
        latin_only: the voice reads Latin script only (English voices).
    """
    letters = [ch for ch in text if ch.isalpha()]
    digits = any(ch.isdigit() for ch in text)
    if not letters and not digits:
        return "nothing to speak: the text has no letters or digits (only punctuation, symbols or emoji)"
    if latin_only and letters:
        scripts = Counter(_script(ch) for ch in letters)
        latin = scripts.get("LATIN", 0)
        if latin * 2 < len(letters):
            other = max((s for s in scripts if s != "LATIN"), key=lambda s: scripts[s])
            return (f"text is in a script an English voice cannot speak ({other.title()}); "
                    "use a voice for that language")
    return None


def _split_long(piece: str, max_chars: int) -> list[str]:
    """Split one over-long piece at clause punctuation, then between words."""
    out: list[str] = []
    for clause in (c.strip() for c in _CLAUSE_END.split(piece)):
        if not clause:
            continue
        if len(clause) <= max_chars:
            out.append(clause)
            continue
        current = ""
        for word in clause.split():
            while len(word) > max_chars:  # a single giant token
                if current:
                    out.append(current)
                    current = ""
                out.append(word[:max_chars])
                word = word[max_chars:]
            if current and len(current) + 1 + len(word) > max_chars:
                out.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        if current:
            out.append(current)
    return out


def split_for_tts(text: str, max_chars: int = 400) -> list[str]:
    """Split ``text`` into chunks of at most ``max_chars`` characters.

    Sentences are kept whole and packed greedily while they fit; a sentence
    longer than ``max_chars`` is split at clause punctuation (``, ; :`` and
    dashes), then between words.
    """
    text = " ".join(text.split())
    if not text:
        return []
    pieces: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if sentence:
            pieces.extend([sentence] if len(sentence) <= max_chars else _split_long(sentence, max_chars))
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= max_chars:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks
