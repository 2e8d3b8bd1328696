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

import functools
import math
import threading
from collections import Counter
from typing import Any

import numpy as np
from crossaug import BadSample, MissingDependency, Sample
from crossaug.forking import renew_after_fork

from .protected import ProtectedSpan, protected_spans, without_protected

#: Defaults: probability from which another language is trusted, and the fewest words judged.
MIN_CONFIDENCE = 0.5
MIN_WORDS = 3

_lock = threading.Lock()
renew_after_fork(globals(), "_lock")
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


class _Classifier:
    """py3langid's ``classify`` with the same result, computed with less Python per byte.

    langid walks a byte automaton over the text and scores the features it emits. Here the
    walk is memoised per (state, space-ended chunk of bytes) -- the automaton is
    deterministic, so a chunk seen from a state emits the same features and ends in the same
    state -- and the float16 feature rows a text uses are kept converted to float32 in a
    bounded cache instead of being converted on every call; the memo records each chunk's
    features as their rows of that cache. Feature order, sums and
    normalisation are langid's, so the scores are identical (tests compare them with
    ``LanguageIdentifier.classify``). Both caches are bounded (about 10 MB each at most) and
    start over when full. A caller that only asks whether the answer is one expected language
    (the language check) gets ``None`` as soon as the raw scores prove it, without the
    normalisation (:meth:`_leads`); any other answer is langid's full one.
    """

    MAX_MEMO = 50_000
    CACHE_ROWS = 16_384

    def __init__(self, ident: Any) -> None:
        self.ident = ident
        self.nm, self.rowbase, self.out = ident.tk_nextmove, ident._rowbase, ident.tk_output
        self.table = ident.nb_ptc
        self.rows = np.empty((self.CACHE_ROWS, self.table.shape[1]), dtype=np.float32)
        self.slot = np.full(len(self.table), -1, dtype=np.intp)  # feature -> row of self.rows, or -1
        self.used = 0
        self.memo: dict[int, dict[bytes, tuple[int, tuple[int, ...]]]] = {}  # state -> chunk -> (state, rows)
        self.memo_size = 0
        classes = list(ident.nb_classes)  # labels held by one column (an aliased label has two)
        self.columns = {c: i for i, c in enumerate(classes) if classes.count(c) == 1}

    def _slots_of(self, features: list[int]) -> tuple[int, ...] | None:
        """Rows of ``self.rows`` holding ``features`` (converted to float32 on first use); ``None``
        when the row cache had to start over (then the walk's memo, which holds rows, starts over too)."""
        out = []
        for f in features:
            row = int(self.slot[f])
            if row < 0:
                if self.used == len(self.rows):  # full: start over
                    self.slot.fill(-1)
                    self.used = 0
                    self.memo.clear()
                    self.memo_size = 0
                    return None
                row = self.used
                self.rows[row] = self.table[f]
                self.slot[f] = row
                self.used += 1
            out.append(row)
        return tuple(out)

    def _walk(self, data: bytes) -> list[int] | None:
        """The cache rows of the features langid's automaton emits over ``data``, in order (each
        feature has one row while cached, so counting rows counts features); ``None`` when the
        row cache started over during the walk."""
        nm, rowbase, out, memo = self.nm, self.rowbase, self.out, self.memo
        state, emitted = 0, []
        pieces = data.split(b" ")  # chunks are the pieces with their space back (the last has none)
        last = len(pieces) - 1
        for k, piece in enumerate(pieces):
            chunk = piece + b" " if k < last else piece
            if not chunk:
                break  # the text ended with a space
            seen = memo.get(state)
            if seen is None:
                seen = memo[state] = {}
            hit = seen.get(chunk)
            if hit is None:
                s, found = state, []
                for byte in chunk:
                    s = nm[rowbase[s] + byte]
                    f = out[s]
                    if f >= 0:
                        found.append(f)
                rows = self._slots_of(found)
                if rows is None:
                    return None
                if self.memo_size >= self.MAX_MEMO:
                    memo.clear()
                    self.memo_size = 0
                    seen = memo[state] = {}
                hit = seen[chunk] = (s, rows)
                self.memo_size += 1
            state = hit[0]
            emitted += hit[1]
        return emitted

    def classify(self, text: str, expected: str | None = None) -> tuple[str, float] | None:
        """langid's ``(language, probability)`` of ``text``; ``None`` only when ``expected`` is given and
        proven to be langid's answer (see :meth:`_leads`), without normalising the scores."""
        ident = self.ident
        if ident.min_confidence is not None or not ident._norm_probs or ident.nb_ptc is not self.table:
            return ident.classify(text)  # a configuration this path does not mirror
        data = ident._encode(text)
        emitted = self._walk(data)
        if emitted is None:  # the row cache started over on the way: walk again from empty caches
            emitted = self._walk(data)
        if not emitted:  # no features, or more distinct ones than the row cache holds
            return ident.classify(text)
        visits = Counter(emitted)  # rows in the order their features first occur, as langid counts them
        rows = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
        counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
        scores = np.log1p(counts) @ self.rows.take(rows, axis=0) + ident.nb_pc
        scale = 1.0 / math.sqrt(len(data) or 1)
        if expected is not None:
            col = self.columns.get(expected)
            if col is not None and self._leads(scores, col, scale):
                return None
        scores *= scale
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for i, j in ident._alias_pairs:
            scores[i] += scores[j]
            scores[j] = 0.0
        i = int(scores.argmax())
        return ident.nb_classes[i], float(scores[i])

    #: how far (natural log, after langid's length scaling) the expected language must lead
    #: beyond ln 2, and the largest scaled score for which float32 rounding is bounded by it
    MARGIN, MAX_SCALED = 1e-2, 1e4

    @classmethod
    def _leads(cls, scores: np.ndarray, col: int, scale: float) -> bool:
        """Whether raw scores (langid's, before normalisation) prove that langid picks column ``col``.

        If ``col``'s scaled score exceeds every other column's by more than ln 2, each other
        probability is below half of ``col``'s, so even an aliased pair folded into one label
        (two columns summed) stays below it and ``argmax`` returns ``col``. The margin covers
        float32 rounding in langid's scaling, ``exp`` and normalisation: with scaled scores
        below ``MAX_SCALED`` in magnitude the scaling moves a difference by at most
        ``2 * MAX_SCALED * 2**-24`` (1.2e-3), and ``exp`` and the division by the same sum by a
        few float32 ulps. ``False`` (then the caller computes langid's full answer) whenever
        this is not shown, NaN included.
        """
        top = scores[col]
        scores[col] = -np.inf
        second = scores.max()
        scores[col] = top
        gap = (float(top) - float(second)) * scale
        return gap > _LN2 + cls.MARGIN and abs(float(top)) * scale < cls.MAX_SCALED


_LN2 = math.log(2.0)
_classifier: _Classifier | None = None


def _classify(text: str, expected: str | None = None) -> tuple[str, float] | None:
    """langid's answer for ``text`` (``None``: shown to be ``expected`` without normalising)."""
    global _classifier
    if _classifier is None:
        ident = _langid()
        with _lock:
            if _classifier is None:
                _classifier = _Classifier(ident)
    with _lock:  # the memo and the row cache are shared by threads
        return _classifier.classify(text, expected)


@functools.lru_cache(maxsize=64)  # a text is reused by the calls for one input; long texts are not kept
def spans_of(text: str) -> tuple[ProtectedSpan, ...]:
    """:func:`~crossaug_text.protected.protected_spans` of ``text``, computed once per text: the
    language check, the text it reads and EDA's editable words all need them."""
    return tuple(protected_spans(text))


def detect_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code, probability)`` of ``text`` (protected spans ignored)."""
    found = _classify(_plain(text))
    assert found is not None
    return str(found[0]), float(found[1])


def _plain(text: str) -> str:
    """``text`` with its protected spans blanked (the text itself when it has none)."""
    spans = spans_of(text)
    return without_protected(text, spans) if spans else text


def _has_words(text: str, n: int) -> bool:
    """Whether ``text`` has at least ``n`` whitespace words holding a letter (stops at the ``n``-th)."""
    if n <= 0:
        return True
    for w in text.split():
        if w.isalpha() or any(c.isalpha() for c in w):
            n -= 1
            if n == 0:
                return True
    return False


def language_refusal(text: str, expected: str | None, min_confidence: float = MIN_CONFIDENCE,
                     min_words: int = MIN_WORDS, plain: str | None = None) -> str | None:
    """Why ``text`` is refused as not ``expected`` (``None``: accepted or not judged).

    Accepted when ``expected`` is ``None``, the text has fewer than ``min_words``
    alphabetic words, the detected language is ``expected``, or its probability is
    below ``min_confidence``. ``plain``: ``text`` already without its protected spans, if the
    caller has it.
    """
    if expected is None:
        return None
    plain = _plain(text) if plain is None else plain
    if not _has_words(plain, min_words):
        return None
    found = _classify(_plain(plain), expected)  # what detect_language(plain) reads
    if found is None:  # langid's answer is proven to be the expected language
        return None
    code, prob = str(found[0]), float(found[1])
    if code == expected or prob < min_confidence:
        return None
    return (f"input looks like language {code!r} (p={prob:.2f}), not {expected!r}; the resources "
            f"used are {expected!r}-only (pass input_language=None to skip this check)")


@functools.lru_cache(maxsize=64)  # as spans_of: 1,024 long documents kept alive were up to a gigabyte
def refusal_once(text: str, expected: str | None, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """:func:`language_refusal`, remembered per text: a recipe asks it for each of an input's
    outputs, and EDA, token replacement and code-switching share the answer.

    Example:
        >>> refusal_once("The cat sits on the mat.", "en") is None
        True
    """
    return language_refusal(text, expected, min_confidence)


def refuse_other_language(who: str, sample: Sample, field: str, expected: str | None,
                          min_confidence: float = MIN_CONFIDENCE) -> None:
    """Raise :class:`~crossaug.BadSample` (naming ``who``, the sample and the field) when the text in
    ``sample[field]`` looks like a language other than ``expected`` (``None``: no check); the answer
    is remembered per text (:func:`refusal_once`).

    Example:
        >>> from crossaug import Sample
        >>> refuse_other_language("text.eda", Sample("s", {"text": "The cat sits on the mat."}), "text", "en")
    """
    if expected is None:
        return
    reason = refusal_once(sample[field], expected, min_confidence)
    if reason:
        raise BadSample(f"{who}: {reason}", sample_id=sample.id, field=field)


__all__ = ["detect_language", "language_refusal", "refusal_once", "refuse_other_language", "spans_of",
           "MIN_CONFIDENCE", "MIN_WORDS"]
