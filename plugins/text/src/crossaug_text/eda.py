r"""EDA: Easy Data Augmentation (Wei and Zou, EMNLP 2019).

Four operations on the words of a sentence: synonym replacement (SR: ``n`` non-stop
words replaced by a WordNet synonym), random insertion (RI: a synonym of a random
non-stop word inserted at a random position, ``n`` times), random swap (RS: two
random words swapped, ``n`` times) and random deletion (RD: each word deleted with
probability ``p``). ``n = max(1, int(alpha * l))`` for a sentence of ``l`` words
(paper Sec. 2). Words are whitespace-separated units; punctuation attached to a
word stays in place when the word is replaced. A sentence is never emptied.

Whitespace is kept: an edited word keeps the whitespace around it, a swap moves
words but not the separators, a deleted word takes exactly one adjacent whitespace
run with it (the one after it; the one before it for the last word) and an
inserted word is followed by one space. Words overlapping a protected span
(URLs, e-mails, @handles, #hashtags, numbers and prices, code; see
:mod:`crossaug_text.protected`), words of a protected part of speech
(``protect_pos``) and words of the sample's label (``protect_label``) are never
replaced, swapped or deleted, and nothing is inserted between two of them.

The planners below are pure functions of the words, a synonym function and a
``numpy`` generator; they return the exact edits, which the augmentations record
as parameters so any output replays without WordNet.

Example:
    >>> import numpy as np
    >>> syn = {"quick": ["fast"], "fox": ["dodger"]}.get
    >>> words = "the quick brown fox".split()
    >>> edits = plan_synonym_replacement(words, 1, np.random.default_rng(0), lambda w: syn(w, []))
    >>> " ".join(apply_operation(words, "sr", edits)) in ("the fast brown fox", "the quick brown dodger")
    True
    >>> apply_operation(words, "rs", [[0, 3]])
    ['fox', 'quick', 'brown', 'the']
    >>> apply_to_text("one\ttwo\nthree four", "rd", [1])
    'one\tthree four'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

from .language import MIN_CONFIDENCE, refusal_once, refuse_other_language, spans_of
from .protected import unprotected
from .stopwords import is_stop_word
from .tokens import match_case, tokenize

SynonymFn = Callable[[str], Sequence[str]]
OPERATIONS = ("sr", "ri", "rs", "rd")
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.UNICODE | re.DOTALL)
_PLAIN = re.compile(r"^[a-z ]+$")
_UNIT = re.compile(r"\S+")
_UNITS_SPLIT = re.compile(r"(\S+)")

#: Paper Table 3: recommended (alpha, n_aug) by training-set size.
RECOMMENDED = ((500, 0.05, 16), (2000, 0.05, 8), (5000, 0.1, 4))


def recommended_params(n_train: int) -> tuple[float, int]:
    """EDA paper Table 3: ``(alpha, n_aug)`` for a training set of ``n_train`` sentences.

    Example:
        >>> recommended_params(500), recommended_params(3000), recommended_params(100000)
        ((0.05, 16), (0.1, 4), (0.1, 4))
    """
    for limit, alpha, n_aug in RECOMMENDED[:2]:
        if n_train <= limit:
            return alpha, n_aug
    return 0.1, 4


def num_changes(alpha: float, n_words: int) -> int:
    """``max(1, int(alpha * l))`` words changed for a sentence of ``l`` words (0 if alpha is 0)."""
    return 0 if alpha <= 0 or n_words == 0 else max(1, int(alpha * n_words))


def split_word(unit: str) -> tuple[str, str, str]:
    """(leading punctuation, word, trailing punctuation) of a whitespace unit.

    Example:
        >>> split_word('"Hello,')
        ('"', 'Hello', ',')
    """
    if unit and _is_word_char(unit[0]) and _is_word_char(unit[-1]):
        return "", unit, ""  # both ends are word characters: nothing to strip (what _EDGE gives)
    m = _EDGE.match(unit)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def _is_word_char(c: str) -> bool:
    """``re``'s ``\\w`` for one character of a ``str`` pattern: alphanumeric or ``_``."""
    return c.isalnum() or c == "_"


class _Unit(NamedTuple):
    """What the planners need to know about one whitespace unit (a pure function of it)."""

    pre: str
    core: str
    post: str
    key: str  #: the core, lower-cased (synonym look-up and SR matching)
    content: bool  #: the core holds a letter and is not a stop word (an SR/RI candidate)


_units: dict[str, _Unit] = {}
_MAX_UNITS = 16384  # about 4 MB at most


def _unit(word: str) -> _Unit:
    """:class:`_Unit` of ``word``, memoised (words repeat across sentences and calls; bounded)."""
    info = _units.get(word)
    if info is None:
        pre, core, post = split_word(word)
        content = bool(core) and any(c.isalpha() for c in core) and not is_stop_word(core)
        if len(_units) >= _MAX_UNITS:
            _units.clear()
        info = _units[word] = _Unit(pre, core, post, core.lower(), content)
    return info


@functools.lru_cache(maxsize=65536)
def wordnet_synonyms(word: str) -> tuple[str, ...]:
    """WordNet synonyms of ``word``, as in the EDA reference code.

    Lemmas of every synset of the word (all parts of speech), ``_``/``-`` turned to
    spaces, lower-cased, letters and spaces only, the word itself excluded; in
    WordNet's order (first synsets first), without duplicates.

    Example:
        >>> "hound" in wordnet_synonyms("dog")
        True
    """
    from .resources import wordnet

    wn = wordnet()
    out: dict[str, None] = {}
    low = word.lower()
    for synset in wn.synsets(low):
        for lemma in synset.lemma_names():
            s = lemma.replace("_", " ").replace("-", " ").lower()
            if s != low and _PLAIN.match(s):
                out[s] = None
    return tuple(out)


def _editable(words: Sequence[str], editable: Sequence[bool] | None) -> list[bool]:
    if editable is None:
        return [True] * len(words)
    if len(editable) != len(words):
        raise ValueError(f"got {len(editable)} editable flags for {len(words)} words")
    return [bool(e) for e in editable]


def _positions(words: Sequence[str], editable: Sequence[bool] | None) -> list[int]:
    """Indices of the words that may change (all of them when ``editable`` is ``None``)."""
    if editable is None:
        return list(range(len(words)))
    return [i for i, ok in enumerate(_editable(words, editable)) if ok]


def _candidates(words: Sequence[str], editable: Sequence[bool] | None = None) -> list[int]:
    ok = _editable(words, editable)
    return [i for i, w in enumerate(words) if ok[i] and _unit(w).content]


def plan_synonym_replacement(words: Sequence[str], n: int, rng: np.random.Generator,
                             synonyms: SynonymFn, editable: Sequence[bool] | None = None) -> list[list[Any]]:
    """SR: up to ``n`` distinct non-stop words, each replaced (every editable occurrence) by a random synonym.

    Returns ``[index, old_unit, new_unit]`` edits. ``editable`` (one flag per word,
    default all) marks the words that may change.
    """
    ok = _editable(words, editable)
    units = [_unit(w) for w in words]
    edits: list[list[Any]] = []
    order = list(dict.fromkeys(u.key for u, e in zip(units, ok) if e and u.content))  # first occurrences
    rng.shuffle(order)
    replaced = 0
    for key in order:
        if replaced >= n:
            break
        syns = list(synonyms(key))
        if not syns:
            continue
        choice = syns[int(rng.integers(len(syns)))]
        for i, u in enumerate(units):
            if ok[i] and u.key == key:
                edits.append([i, words[i], u.pre + match_case(choice, u.core) + u.post])
        replaced += 1
    return sorted(edits)


def plan_random_insertion(words: Sequence[str], n: int, rng: np.random.Generator,
                          synonyms: SynonymFn, tries: int = 10,
                          editable: Sequence[bool] | None = None) -> list[list[Any]]:
    """RI: ``n`` times, insert a synonym of a random non-stop word at a random position.

    Returns ``[position, inserted_word]`` edits, applied in order. Sources are
    editable words; no word is inserted between two non-editable words (so a
    protected phrase such as a label stays contiguous).
    """
    edits: list[list[Any]] = []
    ok = _editable(words, editable)
    cands = _candidates(words, ok)
    if not cands:
        return edits
    flags = list(ok)  # editability of the current (growing) word list
    everywhere = all(flags)  # then every position is allowed (and stays so: inserted words are editable)
    for _ in range(n):
        for _ in range(tries):
            syns = list(synonyms(_unit(words[cands[int(rng.integers(len(cands)))]]).key))
            if syns:
                word = syns[int(rng.integers(len(syns)))]
                if everywhere:
                    pos = int(rng.integers(len(flags) + 1))  # allowed == [0, 1, ..., len(flags)]
                else:
                    allowed = [p for p in range(len(flags) + 1)
                               if p == 0 or p == len(flags) or flags[p - 1] or flags[p]]
                    pos = allowed[int(rng.integers(len(allowed)))]
                edits.append([pos, word])
                flags.insert(pos, True)
                break
    return edits


def plan_random_swap(words: Sequence[str], n: int, rng: np.random.Generator,
                     editable: Sequence[bool] | None = None) -> list[list[int]]:
    """RS: ``n`` swaps of two distinct random editable positions; ``[i, j]`` edits applied in order."""
    idx = None if editable is None else _positions(words, editable)  # None: every position
    m = len(words) if idx is None else len(idx)
    if m < 2 or n < 1:
        return []
    # a uniform pair of distinct positions per swap: a in [0, m), b in [0, m - 1) skipping a. Scalar
    # draws give exactly the numbers of one rng.integers(0, [m, m - 1] * n) call (the same bounded
    # draw per element, in order) at a fraction of its cost for the usual one or two swaps.
    pairs = []
    for _ in range(n):
        a = int(rng.integers(m))
        b = int(rng.integers(m - 1))
        b += b >= a
        if idx is not None:
            a, b = idx[a], idx[b]
        pairs.append([a, b] if a < b else [b, a])
    return pairs


def plan_random_deletion(words: Sequence[str], p: float, rng: np.random.Generator,
                         editable: Sequence[bool] | None = None) -> list[int]:
    """RD: indices to delete, each editable word with probability ``p``; at least one word always survives.

    When no word is drawn, one random editable word is deleted, so that an RD output
    always differs from its input (the paper's code may return the sentence
    unchanged; the other operations already change at least ``max(1, ...)`` words).
    """
    idx = None if editable is None else _positions(words, editable)  # None: every position
    m = len(words) if idx is None else len(idx)
    if len(words) <= 1 or p <= 0 or not m:
        return []
    # the same draws as ever: k-th position deleted when the k-th uniform (as a Python float) is below p
    drawn = [k for k, u in enumerate(rng.random(m).tolist()) if u < p]
    if not drawn:  # none drawn: one random position goes
        drawn = [int(rng.integers(m))]
    elif len(drawn) == m == len(words):  # every word drawn: one random position stays
        del drawn[int(rng.integers(m))]  # drawn is [0, ..., m - 1]: position k sits at index k
    return drawn if idx is None else [idx[k] for k in drawn]


def _apply_units(units: list[str], seps: list[str], op: str, edits: Sequence[Any]) -> None:
    """Apply ``edits`` in place to words ``units`` with ``seps[i]`` the whitespace after word ``i``."""
    if op == "sr":
        for i, old, new in edits:
            if not 0 <= int(i) < len(units) or units[int(i)] != old:
                raise ValueError(f"recorded replacement {old!r} at word {i} does not match the text")
            units[int(i)] = new
    elif op == "ri":
        for pos, word in edits:
            pos = int(pos)
            if not 0 <= pos <= len(units):
                raise ValueError(f"recorded insertion position {pos} outside {len(units)} words")
            if pos == len(units) and units:  # after the last word: it gets a space, the new one the tail
                seps.append(seps[-1])
                seps[-2] = " "
            else:
                seps.insert(pos, " " if units else "")
            units.insert(pos, str(word))
    elif op == "rs":
        for i, j in edits:
            i, j = int(i), int(j)
            if not (0 <= i < len(units) and 0 <= j < len(units)):
                raise ValueError(f"recorded swap ({i}, {j}) outside {len(units)} words")
            units[i], units[j] = units[j], units[i]
    elif op == "rd":
        for i in sorted(_deletions(edits, len(units)), reverse=True):
            if i == len(units) - 1 and i > 0:  # the last word takes the run before it
                seps[i - 1] = seps[i]
            del units[i], seps[i]
    elif op != "none":
        raise ValueError(f"unknown EDA operation {op!r}; expected one of {OPERATIONS}")


def apply_operation(words: Sequence[str], op: str, edits: Sequence[Any]) -> list[str]:
    """Apply recorded ``edits`` of operation ``op`` (``sr``, ``ri``, ``rs``, ``rd``) to ``words``.

    Raises:
        ValueError: the edits do not fit these words (replayed on another text).
    """
    units, seps = list(words), [" "] * len(words)
    _apply_units(units, seps, op, edits)
    return units


def apply_to_text(text: str, op: str, edits: Sequence[Any]) -> str:
    r"""Apply ``edits`` to the whitespace-separated words of ``text``, keeping its whitespace.

    Word indices are those of ``text.split()``. An edited word keeps the whitespace
    around it; a deleted word removes exactly one adjacent whitespace run (the one
    after it, or before it for the last word); an inserted word is followed by one
    space. Returns ``text`` unchanged if every word would be deleted.

    Example:
        >>> apply_to_text("a\tb\n c", "rs", [[0, 2]])
        'c\tb\n a'
        >>> apply_to_text("a b\n", "ri", [[2, "x"]])
        'a b x\n'

    Raises:
        ValueError: the edits do not fit these words.
    """
    words = text.split()
    if not words:
        return text
    if " ".join(words) == text:  # the usual sentence, single spaces only: every run is one space
        if op == "rd":
            for i in sorted(_deletions(edits, len(words)), reverse=True):
                del words[i]
            return " ".join(words)
        _apply_units(words, [" "] * len(words), op, edits)
        return " ".join(words)
    parts = _UNITS_SPLIT.split(text)  # [lead, word, whitespace after it, word, ..., word, tail]
    if op == "rs":  # words swap places in ``parts`` (word k at 2k + 1); every separator stays
        n = len(parts) // 2
        for i, j in edits:
            i, j = int(i), int(j)
            if not (0 <= i < n and 0 <= j < n):
                raise ValueError(f"recorded swap ({i}, {j}) outside {n} words")
            parts[2 * i + 1], parts[2 * j + 1] = parts[2 * j + 1], parts[2 * i + 1]
        return "".join(parts)
    if op == "sr":  # words change in place and every separator stays
        units = parts[1::2]
        _apply_units(units, parts[2::2], op, edits)
        parts[1::2] = units
        return "".join(parts)
    if op == "rd":
        return _delete_words(parts, edits)
    lead, units, seps = parts[0], parts[1::2], parts[2::2]
    _apply_units(units, seps, op, edits)
    if not units:
        return text
    if len(units) != len(seps):  # pragma: no cover - every edit keeps one separator per word
        raise ValueError(f"{len(units)} words but {len(seps)} separators")
    parts = [lead] * (2 * len(units) + 1)
    parts[1::2], parts[2::2] = units, seps
    return "".join(parts)


def _delete_words(parts: list[str], edits: Sequence[Any]) -> str:
    """:func:`_apply_units`'s deletion on ``[lead, word, sep, ..., word, sep]`` (cut in place), joined.

    Deleting from the end backwards, a deleted word takes the run after it, and the last word
    the run before it; so every kept word keeps the run after it except the last kept one,
    which ends with the text's final run.
    """
    drop = _deletions(edits, len(parts) // 2)
    if not drop:
        return "".join(parts)
    tail = parts[-1]
    for k in sorted(drop, reverse=True):  # a few words go: cut them (and the run after each) out in place
        del parts[2 * k + 1:2 * k + 3]
    parts[-1] = tail  # the last kept word ends with the text's final run
    return "".join(parts)


def _deletions(edits: Sequence[Any], n: int) -> set[int]:
    """The word indices recorded deleted, checked against a text of ``n`` words (one must stay)."""
    drop = {int(i) for i in edits}
    if drop and (max(drop) >= n or min(drop) < 0 or len(drop) >= n):
        raise ValueError(f"recorded deletion of {sorted(drop)[:5]}... does not fit {n} words")
    return drop


def _check_rate(name: str, value: float, who: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{who}: {name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"{who}: {name} must lie in [0, 1], got {value!r}")
    return v


def _check_pos(tags: Any, who: str) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = [tags]
    try:
        out = tuple(str(t).upper() for t in tags)
    except TypeError:
        raise ConfigError(f"{who}: protect_pos must be a list of spaCy universal POS tags, got {tags!r}") from None
    bad = [t for t in out if t not in UPOS]
    if bad:
        raise ConfigError(f"{who}: protect_pos has unknown universal POS tag(s) {bad}; expected some of {sorted(UPOS)}")
    return out


#: spaCy's (Universal Dependencies) coarse part-of-speech tags.
UPOS = frozenset("ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X SPACE".split())


def label_words(label: Any) -> set[str]:
    """Lower-cased words of a label (a string, or a list of strings); empty for other labels.

    Example:
        >>> sorted(label_words("Persian cat")), label_words(3)
        (['cat', 'persian'], set())
    """

    if isinstance(label, str):
        labels = [label]
    elif isinstance(label, (list, tuple)) and all(isinstance(x, str) for x in label):
        labels = list(label)
    else:
        return set()
    return {t.text.lower() for lab in labels for t in tokenize(lab.replace("_", " ")) if t.is_word}


def _label_set(label: Any) -> frozenset[str]:
    """:func:`label_words` of ``label``, memoised per label (a recipe sees each label many times)."""
    if isinstance(label, str):
        return _label_words_of((label,))
    if isinstance(label, (list, tuple)) and all(isinstance(x, str) for x in label):
        return _label_words_of(tuple(label))
    return frozenset()


@functools.lru_cache(maxsize=1024)
def _label_words_of(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(label_words(list(labels)))


@functools.lru_cache(maxsize=16384)
def _unit_tokens(unit: str) -> frozenset[str]:
    """The lower-cased tokens of a whitespace unit (punctuation included; label words never are)."""
    return frozenset(t.text.lower() for t in tokenize(unit))


def _pos_spans(text: str, tags: tuple[str, ...], model: str | None) -> tuple[tuple[int, int], ...]:
    """Character spans of the tokens of ``text`` whose spaCy part of speech is one of ``tags`` (the
    text is tagged once for all its outputs: :func:`~crossaug_text.resources.spacy_tokens`)."""
    from .resources import spacy_tokens

    return tuple((a, b) for a, b, _, pos in spacy_tokens(text, model) if pos in tags)


@functools.lru_cache(maxsize=64)
def _span_flags(text: str) -> tuple[bool, ...] | None:
    """Per whitespace word of ``text``, whether it overlaps no protected span (``None``: ``text`` has
    none), once per text: a recipe plans ``num_aug`` edits of each input."""
    spans = spans_of(text)
    if not spans:
        return None
    return tuple(unprotected((m.span() for m in _UNIT.finditer(text)), spans))


def clear_per_text_caches() -> None:
    """Forget what is computed once per text (language check, protected spans and words, parts of
    speech), so that the next call on a text pays for it again (benchmarks time first sights)."""
    from .resources import spacy_tokens

    for cached in (refusal_once, spans_of, _span_flags, spacy_tokens):
        cached.cache_clear()


class _EDAOperations(Augmentation):
    """Shared machinery: check the language, mark protected words, plan one operation, replay it."""

    modalities: ClassVar[tuple[str, ...]] = ("text",)
    neural: ClassVar[bool | None] = False  # said, not inferred on every call's lineage step
    json_params: ClassVar[bool] = True  # a new dict of plain values per call: the lineage keeps it
    field: str = "text"
    protect_pos: tuple[str, ...] = ()
    protect_label: bool = False
    input_language: str | None = "auto"
    min_language_confidence: float = MIN_CONFIDENCE
    spacy_model: str | None = None

    def _set_common(self, field: str, protect_pos: Sequence[str], protect_label: bool,
                    input_language: str | None, min_language_confidence: float,
                    spacy_model: str | None) -> None:
        self.field = field
        self.protect_pos = _check_pos(protect_pos, self.name)
        self.protect_label = bool(protect_label)
        self.input_language = input_language or None
        self.min_language_confidence = _check_rate("min_language_confidence", min_language_confidence, self.name)
        self.spacy_model = spacy_model

    def editable(self, sample: Sample, text: str) -> list[bool]:
        """One flag per whitespace word of ``text``: may EDA change it? (see the module docstring)."""
        flags = self._protected_words(sample, text)
        return [True] * len(text.split()) if flags is None else flags

    def _protected_words(self, sample: Sample, text: str) -> list[bool] | None:
        """:meth:`editable`'s flags, or ``None`` when every word is editable."""
        flags = _span_flags(text)
        if not self.protect_label and not self.protect_pos:
            return None if flags is None else list(flags)
        matches = list(_UNIT.finditer(text))
        ok = list(flags) if flags is not None else [True] * len(matches)
        if self.protect_label:
            lab = _label_set(sample.label)
            if lab:
                for k, m in enumerate(matches):
                    if not _unit_tokens(m.group()).isdisjoint(lab):  # a token of the word is a label word
                        ok[k] = False
        if self.protect_pos and any(ok):
            hit = _pos_spans(text, self.protect_pos, self.spacy_model)
            for k, m in enumerate(matches):
                if any(a < m.end() and m.start() < b for a, b in hit):
                    ok[k] = False
        return ok

    def _rates(self) -> dict[str, float]:
        raise NotImplementedError

    def checked_language(self, rates: Mapping[str, float] | None = None) -> str | None:
        """The language inputs are checked against (``None``: none): ``input_language``, where
        ``"auto"`` is English when SR or RI has a non-zero rate or ``protect_pos`` is set (English
        resources: WordNet, the stop words, the tagger) and no check otherwise (swap and deletion
        move and drop words of any language).

        Example:
            >>> RandomSwap().checked_language(), RandomSwap(protect_pos=["NOUN"]).checked_language()
            (None, 'en')
            >>> EDA().checked_language(), EDA(alpha_sr=0, alpha_ri=0).checked_language()
            ('en', None)
        """
        if self.input_language != "auto":
            return self.input_language
        rates = self._rates() if rates is None else rates
        english = self.protect_pos or rates.get("sr", 0.0) > 0 or rates.get("ri", 0.0) > 0
        return "en" if english else None

    def synonyms(self, word: str) -> Sequence[str]:
        """Synonyms of a (lower-case) word: WordNet, as in the paper."""
        return wordnet_synonyms(word)

    def plan(self, op: str, words: Sequence[str], rng: np.random.Generator,
             editable: Sequence[bool] | None = None, rate: float | None = None) -> list[Any]:
        rate = self._rates()[op] if rate is None else rate
        if op == "sr":
            return plan_synonym_replacement(words, num_changes(rate, len(words)), rng, self.synonyms,
                                            editable=editable)
        if op == "ri":
            return plan_random_insertion(words, num_changes(rate, len(words)), rng, self.synonyms,
                                         editable=editable)
        if op == "rs":
            return plan_random_swap(words, num_changes(rate, len(words)), rng, editable=editable)
        return plan_random_deletion(words, rate, rng, editable=editable)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        text = sample[self.field]
        rates = self._rates()
        language = self.checked_language(rates)
        refuse_other_language(self.name, sample, self.field, language, self.min_language_confidence)
        ops = [o for o, r in rates.items() if r > 0]
        if not ops:
            return {"op": "none", "edits": []}
        op = ops[int(rng.integers(len(ops)))] if len(ops) > 1 else ops[0]
        # None (every word editable) spares the planners a list of flags
        return {"op": op, "edits": self.plan(op, text.split(), rng, self._protected_words(sample, text), rates[op])}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        text = sample[self.field]
        try:
            new = apply_to_text(text, params["op"], params["edits"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadSample(f"{self.name}: cannot replay params {dict(params)!r}: {exc}",
                            sample_id=sample.id, field=self.field) from None
        return sample.derive(None, **{self.field: new})


class EDA(_EDAOperations):
    """EDA (Wei and Zou, 2019): one of SR, RI, RS, RD per output, chosen uniformly.

    Each call draws one operation among those with a non-zero rate (the paper makes
    ``n_aug/4`` sentences with each operation) and records it with its edits as
    ``{"op": "sr"|"ri"|"rs"|"rd", "edits": [...]}``.

    Args:
        alpha_sr: fraction of words replaced by synonyms (paper default 0.1).
        alpha_ri: fraction of words inserted (0.1).
        alpha_rs: fraction of words swapped (0.1).
        p_rd: probability of deleting each word (0.1).
        field: the text field to augment.
        protect_pos: spaCy universal POS tags whose words are never edited (e.g.
            ``["NOUN", "PROPN"]``; spaCy is loaded only when non-empty). Ours.
        protect_label: never edit the words of the sample's label (e.g. an injected
            class name "persian cat"). Ours.
        input_language: refuse (per sample) text detected as another language; ``"auto"``
            (default): ``"en"`` when an operation in use reads an English resource (SR and
            RI: WordNet and the stop words; ``protect_pos``: the English tagger), no check
            for swap and deletion alone; a code, or ``None`` (never). Ours.
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.

    Example:
        >>> import numpy as np
        >>> from crossaug import Sample
        >>> aug = EDA(alpha_sr=0.0, alpha_ri=0.0, alpha_rs=0.5, p_rd=0.0)
        >>> out = aug.augment(Sample("s", {"text": "a b c d"}), np.random.default_rng(1))
        >>> sorted(out.fields["text"].split()), out.lineage[-1].params["op"]
        (['a', 'b', 'c', 'd'], 'rs')
    """

    name: ClassVar[str] = "text.eda"

    def __init__(self, alpha_sr: float = 0.1, alpha_ri: float = 0.1, alpha_rs: float = 0.1,
                 p_rd: float = 0.1, field: str = "text", protect_pos: Sequence[str] = (),
                 protect_label: bool = False, input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None) -> None:
        self.alpha_sr = _check_rate("alpha_sr", alpha_sr, self.name)
        self.alpha_ri = _check_rate("alpha_ri", alpha_ri, self.name)
        self.alpha_rs = _check_rate("alpha_rs", alpha_rs, self.name)
        self.p_rd = _check_rate("p_rd", p_rd, self.name)
        self._set_common(field, protect_pos, protect_label, input_language, min_language_confidence, spacy_model)

    def _rates(self) -> dict[str, float]:
        return {"sr": self.alpha_sr, "ri": self.alpha_ri, "rs": self.alpha_rs, "rd": self.p_rd}


class SynonymReplacement(_EDAOperations):
    """EDA's SR alone: replace ``max(1, int(alpha*l))`` non-stop words by WordNet synonyms.

    Args:
        alpha: fraction of words replaced (EDA default 0.1).
        field: the text field.
        protect_pos: spaCy universal POS tags whose words are never edited (e.g.
            ``["NOUN", "PROPN"]``; spaCy is loaded only when non-empty). Ours.
        protect_label: never edit the words of the sample's label (e.g. an injected
            class name "persian cat"). Ours.
        input_language: refuse (per sample) text detected as another language; ``"auto"``
            (default): ``"en"`` when an operation in use reads an English resource (SR and
            RI: WordNet and the stop words; ``protect_pos``: the English tagger), no check
            for swap and deletion alone; a code, or ``None`` (never). Ours.
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.

    Example:
        >>> import numpy as np
        >>> from crossaug import Sample
        >>> out = SynonymReplacement(alpha=0.5).augment(Sample("s", {"text": "the dog"}), np.random.default_rng(0))
        >>> out.fields["text"].startswith("the ") and out.fields["text"] != "the dog"
        True
    """

    name: ClassVar[str] = "text.synonym-replacement"

    def __init__(self, alpha: float = 0.1, field: str = "text", protect_pos: Sequence[str] = (),
                 protect_label: bool = False, input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None) -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self._set_common(field, protect_pos, protect_label, input_language, min_language_confidence, spacy_model)

    def _rates(self) -> dict[str, float]:
        return {"sr": self.alpha}


class RandomInsertion(_EDAOperations):
    """EDA's RI alone: insert ``max(1, int(alpha*l))`` synonyms of random non-stop words.

    Args:
        alpha: fraction of words inserted (EDA default 0.1).
        field: the text field.
        protect_pos: spaCy universal POS tags whose words are never edited (e.g.
            ``["NOUN", "PROPN"]``; spaCy is loaded only when non-empty). Ours.
        protect_label: never edit the words of the sample's label (e.g. an injected
            class name "persian cat"). Ours.
        input_language: refuse (per sample) text detected as another language; ``"auto"``
            (default): ``"en"`` when an operation in use reads an English resource (SR and
            RI: WordNet and the stop words; ``protect_pos``: the English tagger), no check
            for swap and deletion alone; a code, or ``None`` (never). Ours.
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.
    """

    name: ClassVar[str] = "text.random-insertion"

    def __init__(self, alpha: float = 0.1, field: str = "text", protect_pos: Sequence[str] = (),
                 protect_label: bool = False, input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None) -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self._set_common(field, protect_pos, protect_label, input_language, min_language_confidence, spacy_model)

    def _rates(self) -> dict[str, float]:
        return {"ri": self.alpha}


class RandomSwap(_EDAOperations):
    """EDA's RS alone: swap two random words ``max(1, int(alpha*l))`` times.

    Args:
        alpha: fraction of words swapped (EDA default 0.1).
        field: the text field.
        protect_pos: spaCy universal POS tags whose words are never edited (e.g.
            ``["NOUN", "PROPN"]``; spaCy is loaded only when non-empty). Ours.
        protect_label: never edit the words of the sample's label (e.g. an injected
            class name "persian cat"). Ours.
        input_language: refuse (per sample) text detected as another language; ``"auto"``
            (default): ``"en"`` when an operation in use reads an English resource (SR and
            RI: WordNet and the stop words; ``protect_pos``: the English tagger), no check
            for swap and deletion alone; a code, or ``None`` (never). Ours.
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.
    """

    name: ClassVar[str] = "text.random-swap"

    def __init__(self, alpha: float = 0.1, field: str = "text", protect_pos: Sequence[str] = (),
                 protect_label: bool = False, input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None) -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self._set_common(field, protect_pos, protect_label, input_language, min_language_confidence, spacy_model)

    def _rates(self) -> dict[str, float]:
        return {"rs": self.alpha}


class RandomDeletion(_EDAOperations):
    """EDA's RD alone: delete each word with probability ``p``, never all of them.

    Args:
        p: deletion probability per word (EDA default 0.1).
        field: the text field.
        protect_pos: spaCy universal POS tags whose words are never edited (e.g.
            ``["NOUN", "PROPN"]``; spaCy is loaded only when non-empty). Ours.
        protect_label: never edit the words of the sample's label (e.g. an injected
            class name "persian cat"). Ours.
        input_language: refuse (per sample) text detected as another language; ``"auto"``
            (default): ``"en"`` when an operation in use reads an English resource (SR and
            RI: WordNet and the stop words; ``protect_pos``: the English tagger), no check
            for swap and deletion alone; a code, or ``None`` (never). Ours.
        min_language_confidence: langid probability from which that refusal applies.
        spacy_model: spaCy pipeline for ``protect_pos``.
    """

    name: ClassVar[str] = "text.random-deletion"

    def __init__(self, p: float = 0.1, field: str = "text", protect_pos: Sequence[str] = (),
                 protect_label: bool = False, input_language: str | None = "auto",
                 min_language_confidence: float = MIN_CONFIDENCE, spacy_model: str | None = None) -> None:
        self.p = _check_rate("p", p, self.name)
        self._set_common(field, protect_pos, protect_label, input_language, min_language_confidence, spacy_model)

    def _rates(self) -> dict[str, float]:
        return {"rd": self.p}


__all__ = ["EDA", "SynonymReplacement", "RandomInsertion", "RandomSwap", "RandomDeletion",
           "wordnet_synonyms", "plan_synonym_replacement", "plan_random_insertion",
           "plan_random_swap", "plan_random_deletion", "apply_operation", "apply_to_text", "num_changes",
           "label_words", "UPOS",
           "recommended_params", "split_word", "OPERATIONS"]
