"""Language check of inputs for augmentations built on English resources.

WordNet, the English stop words and the English spaCy pipeline give nonsense on
other languages (EDA turned the German article "Der" into "Five hundred"). Before
planning an edit, EDA, token replacement (POS mode) and code-switching identify
the input's language with ``py3langid`` (langid.py's model, shipped inside the
wheel, no download) on the text without its protected spans, and refuse the
sample with a :class:`crossaug.BadSample` naming the detected language when it
is another one with probability >= ``min_confidence`` (normalised over langid's
97 languages). Texts of fewer than ``min_words`` words are not judged (langid is
unreliable on them): "Der" alone scores 0.05 for German.

Example:
    >>> detect_language("Die Katze sitzt auf der Matte und schläft.")[0]
    'de'
    >>> language_refusal("Die Katze sitzt auf der Matte und schläft.", "en") is not None
    True
    >>> language_refusal("The cat sits on the mat.", "en") is None
    True
"""

from __future__ import annotations

import threading
from typing import Any

from crossaug import MissingDependency

from .protected import without_protected

#: Defaults: probability from which another language is trusted, and the fewest words judged.
MIN_CONFIDENCE = 0.5
MIN_WORDS = 3

_lock = threading.Lock()
_identifier: Any = None


def _langid() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as exc:  # pragma: no cover - a base dependency
                raise MissingDependency("pip install crossaug-text", what="py3langid") from exc
            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of ``text`` (protected spans ignored)."""
    code, prob = _langid().classify(without_protected(text))
    return str(code), float(prob)


def language_refusal(text: str, expected: str | None, min_confidence: float = MIN_CONFIDENCE,
                     min_words: int = MIN_WORDS) -> str | None:
    """Why ``text`` is refused as not ``expected`` (``None``: accepted or not judged).

    Accepted when ``expected`` is ``None``, the text has fewer than ``min_words``
    alphabetic words, the detected language is ``expected``, or its probability is
    below ``min_confidence``.
    """
    if expected is None:
        return None
    plain = without_protected(text)
    if sum(any(c.isalpha() for c in w) for w in plain.split()) < min_words:
        return None
    code, prob = detect_language(plain)
    if code == expected or prob < min_confidence:
        return None
    return (f"input looks like language {code!r} (p={prob:.2f}), not {expected!r}; the resources "
            f"used are {expected!r}-only (pass input_language=None to skip this check)")


__all__ = ["detect_language", "language_refusal", "MIN_CONFIDENCE", "MIN_WORDS"]
