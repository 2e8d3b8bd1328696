"""EDA: Easy Data Augmentation (Wei and Zou, EMNLP 2019).

Four operations on the words of a sentence: synonym replacement (SR: ``n`` non-stop
words replaced by a WordNet synonym), random insertion (RI: a synonym of a random
non-stop word inserted at a random position, ``n`` times), random swap (RS: two
random words swapped, ``n`` times) and random deletion (RD: each word deleted with
probability ``p``). ``n = max(1, int(alpha * l))`` for a sentence of ``l`` words
(paper Sec. 2). Words are whitespace-separated units; punctuation attached to a
word stays in place when the word is replaced. A sentence is never emptied.

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
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from crossaug import BadSample, ConfigError, Sample
from crossaug.augmentation import Augmentation

from .stopwords import is_stop_word
from .tokens import match_case

SynonymFn = Callable[[str], Sequence[str]]
OPERATIONS = ("sr", "ri", "rs", "rd")
_EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.UNICODE | re.DOTALL)
_PLAIN = re.compile(r"^[a-z ]+$")

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
    m = _EDGE.match(unit)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


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


def _candidates(words: Sequence[str]) -> list[int]:
    return [i for i, w in enumerate(words) if (core := split_word(w)[1]) and any(c.isalpha() for c in core)
            and not is_stop_word(core)]


def plan_synonym_replacement(words: Sequence[str], n: int, rng: np.random.Generator,
                             synonyms: SynonymFn) -> list[list[Any]]:
    """SR: up to ``n`` distinct non-stop words, each replaced (every occurrence) by a random synonym.

    Returns ``[index, old_unit, new_unit]`` edits.
    """
    edits: list[list[Any]] = []
    seen: dict[str, None] = {}
    for i in _candidates(words):
        seen.setdefault(split_word(words[i])[1].lower(), None)
    order = list(seen)
    rng.shuffle(order)
    replaced = 0
    for key in order:
        if replaced >= n:
            break
        syns = list(synonyms(key))
        if not syns:
            continue
        choice = syns[int(rng.integers(len(syns)))]
        for i, w in enumerate(words):
            pre, core, post = split_word(w)
            if core.lower() == key:
                edits.append([i, w, pre + match_case(choice, core) + post])
        replaced += 1
    return sorted(edits)


def plan_random_insertion(words: Sequence[str], n: int, rng: np.random.Generator,
                          synonyms: SynonymFn, tries: int = 10) -> list[list[Any]]:
    """RI: ``n`` times, insert a synonym of a random non-stop word at a random position.

    Returns ``[position, inserted_word]`` edits, applied in order.
    """
    edits: list[list[Any]] = []
    cands = _candidates(words)
    length = len(words)
    if not cands:
        return edits
    for _ in range(n):
        for _ in range(tries):
            source = split_word(words[cands[int(rng.integers(len(cands)))]])[1]
            syns = list(synonyms(source.lower()))
            if syns:
                word = syns[int(rng.integers(len(syns)))]
                pos = int(rng.integers(length + 1))
                edits.append([pos, word])
                length += 1
                break
    return edits


def plan_random_swap(words: Sequence[str], n: int, rng: np.random.Generator) -> list[list[int]]:
    """RS: ``n`` swaps of two distinct random positions; ``[i, j]`` edits applied in order."""
    if len(words) < 2:
        return []
    return [sorted(int(x) for x in rng.choice(len(words), size=2, replace=False)) for _ in range(n)]


def plan_random_deletion(words: Sequence[str], p: float, rng: np.random.Generator) -> list[int]:
    """RD: indices to delete, each word with probability ``p``; at least one word always survives.

    When no word is drawn, one random word is deleted, so that an RD output always
    differs from its input (the paper's code may return the sentence unchanged; the
    other operations already change at least ``max(1, ...)`` words).
    """
    if len(words) <= 1 or p <= 0:
        return []
    drop = rng.random(len(words)) < p
    if drop.all():
        drop[int(rng.integers(len(words)))] = False
    elif not drop.any():
        drop[int(rng.integers(len(words)))] = True
    return [int(i) for i in np.flatnonzero(drop)]


def apply_operation(words: Sequence[str], op: str, edits: Sequence[Any]) -> list[str]:
    """Apply recorded ``edits`` of operation ``op`` (``sr``, ``ri``, ``rs``, ``rd``) to ``words``.

    Raises:
        ValueError: the edits do not fit these words (replayed on another text).
    """
    out = list(words)
    if op == "sr":
        for i, old, new in edits:
            if not 0 <= int(i) < len(out) or out[int(i)] != old:
                raise ValueError(f"recorded replacement {old!r} at word {i} does not match the text")
            out[int(i)] = new
    elif op == "ri":
        for pos, word in edits:
            if not 0 <= int(pos) <= len(out):
                raise ValueError(f"recorded insertion position {pos} outside {len(out)} words")
            out.insert(int(pos), word)
    elif op == "rs":
        for i, j in edits:
            i, j = int(i), int(j)
            if not (0 <= i < len(out) and 0 <= j < len(out)):
                raise ValueError(f"recorded swap ({i}, {j}) outside {len(out)} words")
            out[i], out[j] = out[j], out[i]
    elif op == "rd":
        drop = {int(i) for i in edits}
        if drop and (max(drop) >= len(out) or len(drop) >= len(out)):
            raise ValueError(f"recorded deletion of {sorted(drop)[:5]}... does not fit {len(out)} words")
        out = [w for i, w in enumerate(out) if i not in drop]
    elif op != "none":
        raise ValueError(f"unknown EDA operation {op!r}; expected one of {OPERATIONS}")
    return out


def _check_rate(name: str, value: float, who: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{who}: {name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ConfigError(f"{who}: {name} must lie in [0, 1], got {value!r}")
    return v


class _EDAOperations(Augmentation):
    """Shared machinery: plan one operation, record its edits, replay them."""

    modalities: ClassVar[tuple[str, ...]] = ("text",)
    field: str = "text"

    def _rates(self) -> dict[str, float]:
        raise NotImplementedError

    def synonyms(self, word: str) -> Sequence[str]:
        """Synonyms of a (lower-case) word: WordNet, as in the paper."""
        return wordnet_synonyms(word)

    def plan(self, op: str, words: Sequence[str], rng: np.random.Generator) -> list[Any]:
        rate = self._rates()[op]
        if op == "sr":
            return plan_synonym_replacement(words, num_changes(rate, len(words)), rng, self.synonyms)
        if op == "ri":
            return plan_random_insertion(words, num_changes(rate, len(words)), rng, self.synonyms)
        if op == "rs":
            return plan_random_swap(words, num_changes(rate, len(words)), rng)
        return plan_random_deletion(words, rate, rng)

    def sample_params(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        words = sample[self.field].split()
        ops = [o for o, r in self._rates().items() if r > 0]
        if not ops:
            return {"op": "none", "edits": []}
        op = ops[int(rng.integers(len(ops)))] if len(ops) > 1 else ops[0]
        return {"op": op, "edits": self.plan(op, words, rng)}

    def apply(self, sample: Sample, params: Mapping[str, Any]) -> Sample:
        text = sample[self.field]
        try:
            words = apply_operation(text.split(), params["op"], params["edits"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BadSample(f"{self.name}: cannot replay params {dict(params)!r}: {exc}",
                            sample_id=sample.id, field=self.field) from None
        return sample.derive(None, **{self.field: " ".join(words) if words else text})


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
                 p_rd: float = 0.1, field: str = "text") -> None:
        self.alpha_sr = _check_rate("alpha_sr", alpha_sr, self.name)
        self.alpha_ri = _check_rate("alpha_ri", alpha_ri, self.name)
        self.alpha_rs = _check_rate("alpha_rs", alpha_rs, self.name)
        self.p_rd = _check_rate("p_rd", p_rd, self.name)
        self.field = field

    def _rates(self) -> dict[str, float]:
        return {"sr": self.alpha_sr, "ri": self.alpha_ri, "rs": self.alpha_rs, "rd": self.p_rd}


class SynonymReplacement(_EDAOperations):
    """EDA's SR alone: replace ``max(1, int(alpha*l))`` non-stop words by WordNet synonyms.

    Args:
        alpha: fraction of words replaced (EDA default 0.1).
        field: the text field.

    Example:
        >>> import numpy as np
        >>> from crossaug import Sample
        >>> out = SynonymReplacement(alpha=0.5).augment(Sample("s", {"text": "the dog"}), np.random.default_rng(0))
        >>> out.fields["text"].startswith("the ") and out.fields["text"] != "the dog"
        True
    """

    name: ClassVar[str] = "text.synonym-replacement"

    def __init__(self, alpha: float = 0.1, field: str = "text") -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self.field = field

    def _rates(self) -> dict[str, float]:
        return {"sr": self.alpha}


class RandomInsertion(_EDAOperations):
    """EDA's RI alone: insert ``max(1, int(alpha*l))`` synonyms of random non-stop words.

    Args:
        alpha: fraction of words inserted (EDA default 0.1).
        field: the text field.
    """

    name: ClassVar[str] = "text.random-insertion"

    def __init__(self, alpha: float = 0.1, field: str = "text") -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self.field = field

    def _rates(self) -> dict[str, float]:
        return {"ri": self.alpha}


class RandomSwap(_EDAOperations):
    """EDA's RS alone: swap two random words ``max(1, int(alpha*l))`` times.

    Args:
        alpha: fraction of words swapped (EDA default 0.1).
        field: the text field.
    """

    name: ClassVar[str] = "text.random-swap"

    def __init__(self, alpha: float = 0.1, field: str = "text") -> None:
        self.alpha = _check_rate("alpha", alpha, self.name)
        self.field = field

    def _rates(self) -> dict[str, float]:
        return {"rs": self.alpha}


class RandomDeletion(_EDAOperations):
    """EDA's RD alone: delete each word with probability ``p``, never all of them.

    Args:
        p: deletion probability per word (EDA default 0.1).
        field: the text field.
    """

    name: ClassVar[str] = "text.random-deletion"

    def __init__(self, p: float = 0.1, field: str = "text") -> None:
        self.p = _check_rate("p", p, self.name)
        self.field = field

    def _rates(self) -> dict[str, float]:
        return {"rd": self.p}


__all__ = ["EDA", "SynonymReplacement", "RandomInsertion", "RandomSwap", "RandomDeletion",
           "wordnet_synonyms", "plan_synonym_replacement", "plan_random_insertion",
           "plan_random_swap", "plan_random_deletion", "apply_operation", "num_changes",
           "recommended_params", "split_word", "OPERATIONS"]
