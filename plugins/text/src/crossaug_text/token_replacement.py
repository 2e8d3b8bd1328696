"""Random token replacement from the dataset vocabulary (paired cross-modal augmentation).

Replaces a fraction ``rate`` of a sentence's word tokens with random tokens of the
vocabulary of the dataset being augmented, either any token (``mode="random"``) or
one with the same part of speech (``mode="pos"``, spaCy universal POS tags), as the
text side of paired image-text augmentation (random token replacement used with
StyleGAN2-generated image pairs).

Tokens overlapping a protected span (URLs, e-mails, @handles, #hashtags, numbers
and prices, code; :mod:`crossaug_text.protected`, the spans EDA and code-switching
also skip) are never replaced, and replacements are spliced into the original text
by character offsets, so newlines, tabs and other whitespace stay as they were.
In ``pos`` mode (English spaCy tags) input detected as another language is refused
per sample (:mod:`crossaug_text.language`).

Example:
    >>> import numpy as np
    >>> replace_tokens(["a", "red", "car"], 1 / 3, ["blue"], np.random.default_rng(0))
    ['a', 'red', 'blue']
    >>> replace_tokens(["a", "red", "car"], 0.34, {"ADJ": ["green"]}, np.random.default_rng(0),
    ...                pos_tags=["DET", "ADJ", "NOUN"])
    ['a', 'green', 'car']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Union

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

from .language import MIN_CONFIDENCE, refuse_other_language, spans_of
from .protected import unprotected
from .tokens import match_case, replace_spans, tokenize

Vocabulary = Union[Sequence[str], Mapping[str, Sequence[str]]]
MODES = ("random", "pos")
#: POS tags never replaced nor collected (punctuation, symbols, spaces, unknown).
SKIP_POS = frozenset({"PUNCT", "SYM", "SPACE", "X"})


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _has_other(pool: Sequence[str] | None, token: str) -> bool:
    """Whether ``pool`` offers a token other than ``token`` (case-insensitive)."""
    if not pool:
        return False
    return len(pool) > 1 or pool[0].lower() != token.lower()


def num_replaced(rate: float, n_eligible: int) -> int:
    """Tokens replaced: ``round(rate * n)``, at least one when ``rate > 0`` and a token is eligible.

    Example:
        >>> num_replaced(0.15, 10), num_replaced(0.15, 2), num_replaced(0.0, 5)
        (2, 1, 0)
    """
    if rate <= 0 or n_eligible == 0:
        return 0
    return min(n_eligible, max(1, int(round(rate * n_eligible))))


def plan_replacements(tokens: Sequence[str], rate: float, vocabulary: Vocabulary,
                      rng: np.random.Generator, pos_tags: Sequence[str] | None = None,
                      editable: Sequence[bool] | None = None) -> list[tuple[int, str]]:
    """``(index, new_token)`` pairs: which tokens :func:`replace_tokens` replaces and by what.

    Eligible tokens are editable (``editable``, one flag per token, default all),
    hold a letter or digit and have a vocabulary (of their POS tag, with
    ``pos_tags``) offering some other token. A replacement is drawn uniformly,
    redrawn (up to 16 times) while it equals the token case-insensitively, and
    copies the token's capitalisation.
    """
    if editable is not None and len(editable) != len(tokens):
        raise ValueError(f"got {len(editable)} editable flags for {len(tokens)} tokens")
    if pos_tags is not None:
        if not isinstance(vocabulary, Mapping):
            raise ConfigError("with pos_tags, vocabulary must map POS tag -> list of tokens")
        if len(pos_tags) != len(tokens):
            raise ValueError(f"got {len(pos_tags)} POS tags for {len(tokens)} tokens")
        eligible = [i for i, (t, p) in enumerate(zip(tokens, pos_tags, strict=False))
                    if _is_word(t) and p not in SKIP_POS and _has_other(vocabulary.get(p), t)]
    else:
        if isinstance(vocabulary, Mapping):
            raise ConfigError("a POS vocabulary (dict) needs pos_tags; pass a list for random mode")
        eligible = [i for i, t in enumerate(tokens) if _is_word(t) and _has_other(vocabulary, t)]
    if editable is not None:
        eligible = [i for i in eligible if editable[i]]
    k = num_replaced(rate, len(eligible))
    if k == 0:
        return []
    chosen = sorted(int(eligible[j]) for j in rng.choice(len(eligible), size=k, replace=False))
    out: list[tuple[int, str]] = []
    for i in chosen:
        pool = vocabulary[pos_tags[i]] if pos_tags is not None else vocabulary  # type: ignore[index]
        if not len(pool):
            continue
        new = pool[int(rng.integers(len(pool)))]
        for _ in range(16):  # redraw rather than "replace" a token by itself
            if new.lower() != tokens[i].lower():
                break
            new = pool[int(rng.integers(len(pool)))]
        out.append((i, match_case(new, tokens[i])))
    return out


def replace_tokens(tokens: Sequence[str], rate: float, vocabulary: Vocabulary,
                   rng: np.random.Generator, pos_tags: Sequence[str] | None = None) -> list[str]:
    """Replace a fraction ``rate`` of the word tokens by random vocabulary tokens.

    Args:
        tokens: the sentence's tokens.
        rate: fraction of eligible (word) tokens to replace (:func:`num_replaced`).
        vocabulary: a list of tokens (random mode) or ``{POS: [tokens]}`` (POS mode).
        rng: the generator every choice is drawn from.
        pos_tags: one POS tag per token for POS mode; replacements keep the tag.

    Returns:
        A new token list of the same length.
    """
    out = list(tokens)
    for i, new in plan_replacements(tokens, rate, vocabulary, rng, pos_tags):
        out[i] = new
    return out


def build_vocabulary(texts: Iterable[str], mode: str = "random", nlp: Any = None,
                     min_count: int = 1) -> list[str] | dict[str, list[str]]:
    """The (lower-cased, sorted) vocabulary of ``texts``: a list, or ``{POS: [tokens]}`` for ``mode="pos"``.

    Example:
        >>> build_vocabulary(["A cat.", "the cat sat"])
        ['a', 'cat', 'sat', 'the']
    """
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
    counts: dict[tuple[str, str], int] = {}
    if mode == "random":
        for text in texts:
            for t in tokenize(text):
                if t.is_word:
                    key = ("", t.text.lower())
                    counts[key] = counts.get(key, 0) + 1
        return sorted({w for (_, w), c in counts.items() if c >= min_count})
    if nlp is None:
        from .resources import spacy_pipeline

        nlp = spacy_pipeline()
    for doc in nlp.pipe(texts, batch_size=256):
        for t in doc:
            if t.pos_ not in SKIP_POS and _is_word(t.text):
                key = (t.pos_, t.text.lower())
                counts[key] = counts.get(key, 0) + 1
    vocab: dict[str, list[str]] = {}
    for (pos, w), c in sorted(counts.items()):
        if c >= min_count:
            vocab.setdefault(pos, []).append(w)
    return vocab


@functools.lru_cache(maxsize=64)
def _analysed(text: str, mode: str, spacy_model: str | None) -> tuple[
        tuple[tuple[int, int, str], ...], tuple[str, ...] | None, tuple[bool, ...]]:
    """A text's tokens (spaCy's in ``pos`` mode, with their tags; else :func:`tokenize`'s) and
    whether each lies outside every protected span, once per text: a recipe asking ``n`` outputs
    of an input tags it once, not ``n`` times (spaCy takes about 2 ms per sentence)."""
    tags: tuple[str, ...] | None = None
    if mode == "pos":
        from .resources import spacy_tokens

        found = spacy_tokens(text, spacy_model)
        tokens = tuple((a, b, t) for a, b, t, _ in found)
        tags = tuple(pos for *_, pos in found)
    else:
        tokens = tuple((t.start, t.end, t.text) for t in tokenize(text))
    return tokens, tags, tuple(unprotected(((a, b) for a, b, _ in tokens), spans_of(text)))


class TokenReplacement(Augmentation):
    """Replace a fraction ``rate`` of tokens by random dataset-vocabulary tokens (same POS in ``pos`` mode).

    Parameters record each replacement as ``[start, end, old, new, pos]`` (character
    offsets into the input text), so replay needs neither spaCy nor the vocabulary.

    Args:
        rate: fraction of word tokens replaced (default 0.15).
        mode: ``random`` (any vocabulary token) or ``pos`` (same spaCy POS tag).
        vocabulary: list of tokens (random) or ``{POS: [tokens]}`` (pos); when
            ``None``, call :meth:`fit` on the dataset (the ``token-replacement``
            recipe does it for you).
        spacy_model: spaCy pipeline for POS mode (default: see :mod:`crossaug_text.resources`).
        field: the text field.
        input_language: refuse (per sample) text detected as another language;
            ``"auto"`` (default): ``"en"`` in ``pos`` mode (English spaCy tags),
            no check in ``random`` mode (the vocabulary is the dataset's own); ``None``: never.
        min_language_confidence: langid probability from which that refusal applies.

    Example:
        >>> import numpy as np
        >>> from crossaug import Sample
        >>> aug = TokenReplacement(rate=0.5, vocabulary=["dog", "tree"])
        >>> out = aug.augment(Sample("s", {"text": "A cat, a hat."}), np.random.default_rng(2))
        >>> len(out.lineage[-1].params["replacements"])
        2
    """

    name: ClassVar[str] = "text.token-replacement"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(self, rate: float = 0.15, mode: str = "random", vocabulary: Vocabulary | None = None,
                 spacy_model: str | None = None, field: str = "text", input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE) -> None:
        if mode not in MODES:
            raise ConfigError(f"{self.name}: mode must be one of {MODES}, got {mode!r}")
        try:
            rate = float(rate)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.name}: rate must be a number in [0, 1], got {rate!r}") from None
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"{self.name}: rate must lie in [0, 1], got {rate}")
        self.rate = rate
        self.mode = mode
        self.vocabulary = self._check_vocabulary(vocabulary, mode)
        self.spacy_model = spacy_model
        self.field = field
        self.input_language = input_language or None
        self.min_language_confidence = float(min_language_confidence)

    def _language(self) -> str | None:
        if self.input_language == "auto":
            return "en" if self.mode == "pos" else None
        return self.input_language

    def _check_vocabulary(self, vocabulary: Any, mode: str) -> Any:
        if vocabulary is None:
            return None
        if mode == "random":
            if isinstance(vocabulary, Mapping) or isinstance(vocabulary, str):
                raise ConfigError(f"{self.name}: mode='random' needs vocabulary as a list of tokens")
            return [str(w) for w in vocabulary]
        if not isinstance(vocabulary, Mapping):
            raise ConfigError(f"{self.name}: mode='pos' needs vocabulary as {{POS tag: [tokens]}}")
        return {str(k): [str(w) for w in v] for k, v in vocabulary.items()}

    def fit(self, samples: Iterable[Sample]) -> TokenReplacement:
        """Build the vocabulary from the ``field`` of ``samples`` (the dataset being augmented)."""
        texts = [s.fields[self.field] for s in samples if isinstance(s.fields.get(self.field), str)]
        nlp = self._nlp() if self.mode == "pos" else None
        self.vocabulary = build_vocabulary(texts, self.mode, nlp)
        return self

    def _nlp(self) -> Any:
        from .resources import spacy_pipeline

        return spacy_pipeline(self.spacy_model)

    def _tokens(self, text: str) -> tuple[tuple[tuple[int, int, str], ...], tuple[str, ...] | None, tuple[bool, ...]]:
        """``(start, end, text)`` of each token, their POS tags (``pos`` mode) and whether each lies
        outside every protected span; computed once per text (see :func:`_analysed`)."""
        return _analysed(text, self.mode, self.spacy_model)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if self.vocabulary is None:
            raise ConfigError(f"{self.name} has no vocabulary: pass vocabulary=[...] or call fit(samples) "
                              f"(the 'token-replacement' recipe builds it from the dataset)")
        text = sample[self.field]
        refuse_other_language(self.name, sample, self.field, self._language(), self.min_language_confidence)
        spans, tags, editable = self._tokens(text)
        plan = plan_replacements([s[2] for s in spans], self.rate, self.vocabulary, rng, tags, editable)
        return {"replacements": [[spans[i][0], spans[i][1], spans[i][2], new, tags[i] if tags else None]
                                 for i, new in plan]}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        text = sample[self.field]
        try:
            edits = []
            for start, end, old, new, *_ in params["replacements"]:
                if text[int(start):int(end)] != old:
                    raise ValueError(f"recorded token {old!r} not found at [{start}, {end})")
                edits.append((int(start), int(end), str(new)))
            new_text = replace_spans(text, edits)
        except (KeyError, TypeError, ValueError) as exc:
            raise BadSample(f"{self.name}: cannot replay params: {exc}", sample_id=sample.id,
                            field=self.field) from None
        return sample.derive(None, **{self.field: new_text})


__all__ = ["TokenReplacement", "replace_tokens", "plan_replacements", "build_vocabulary",
           "num_replaced", "MODES"]
