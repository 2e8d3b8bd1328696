"""EDA's faster paths give what the plain definitions (written here) give, draw for draw."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from crossaug import Sample
from crossaug_text import eda
from crossaug_text.eda import (
    EDA,
    apply_to_text,
    plan_random_deletion,
    plan_random_insertion,
    plan_random_swap,
    plan_synonym_replacement,
    split_word,
)
from crossaug_text.stopwords import is_stop_word
from crossaug_text.tokens import match_case

EDGE = re.compile(r"^(\W*)(.*?)(\W*)$", re.UNICODE | re.DOTALL)
CHARS = ["a", "Z", "é", "_", "1", "٣", "²", ".", ",", '"', "'", "(", ")", "-", "!", "猫", "\u0301", "€", "@"]
SYN = {"quick": ("fast", "speedy"), "dog": ("hound", "domestic dog"), "cat": ("true cat",), "runs": ("sprints",),
       "red": ("crimson", "scarlet", "ruddy"), "tree": ("shrub",), "book": ("volume", "record")}


def syn(word: str) -> tuple[str, ...]:
    return SYN.get(word, ())


def _units(rnd: random.Random, n: int) -> list[str]:
    return ["".join(rnd.choice(CHARS) for _ in range(rnd.randint(1, 5))) for _ in range(n)]


def test_split_word_is_the_edge_regex():
    rnd = random.Random(0)
    for unit in _units(rnd, 5000) + ["", "a", "!!!", "_x_", '"Hello,']:
        m = EDGE.match(unit)
        assert split_word(unit) == (m.group(1), m.group(2), m.group(3)), unit


def _reference_swap(words, n, rng, editable=None):
    """The definition: one draw call for every pair, a in [0, m), b in [0, m - 1) skipping a."""
    idx = [i for i, ok in enumerate(editable or [True] * len(words)) if ok]
    m = len(idx)
    if m < 2 or n < 1:
        return []
    draws = rng.integers(0, [m, m - 1] * n).tolist()
    return [sorted((idx[a], idx[b + (b >= a)])) for a, b in zip(draws[::2], draws[1::2])]


@pytest.mark.parametrize("seed", range(40))
def test_random_swap_draws_what_one_broadcast_call_draws(seed):
    rnd = random.Random(seed)
    words = ["w"] * rnd.randint(0, 40)
    editable = [rnd.random() < 0.8 for _ in words] if seed % 2 else None
    n = rnd.randint(0, 6)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    if seed % 3 == 0:  # a half-used 32-bit buffer in the generator must be read the same way
        a.integers(5), b.integers(5)
    assert plan_random_swap(words, n, a, editable) == _reference_swap(words, n, b, editable)
    assert a.random() == b.random()  # and the stream goes on from the same place


def _reference_sr(words, n, rng, editable=None):
    ok = editable or [True] * len(words)
    parts = [EDGE.match(w).groups() for w in words]
    seen: dict[str, None] = {}
    for i, (_, core, _) in enumerate(parts):
        if ok[i] and core and any(c.isalpha() for c in core) and not is_stop_word(core):
            seen.setdefault(core.lower(), None)
    order = list(seen)
    rng.shuffle(order)
    edits, replaced = [], 0
    for key in order:
        if replaced >= n:
            break
        syns = list(syn(key))
        if not syns:
            continue
        choice = syns[int(rng.integers(len(syns)))]
        for i, (pre, core, post) in enumerate(parts):
            if ok[i] and core.lower() == key:
                edits.append([i, words[i], pre + match_case(choice, core) + post])
        replaced += 1
    return sorted(edits)


def _reference_ri(words, n, rng, editable=None, tries=10):
    ok = editable or [True] * len(words)
    cands = [i for i, w in enumerate(words) if ok[i] and (core := EDGE.match(w).group(2))
             and any(c.isalpha() for c in core) and not is_stop_word(core)]
    edits = []
    if not cands:
        return edits
    flags = list(ok)
    for _ in range(n):
        for _ in range(tries):
            syns = list(syn(EDGE.match(words[cands[int(rng.integers(len(cands)))]]).group(2).lower()))
            if syns:
                word = syns[int(rng.integers(len(syns)))]
                allowed = [p for p in range(len(flags) + 1) if p == 0 or p == len(flags) or flags[p - 1] or flags[p]]
                pos = allowed[int(rng.integers(len(allowed)))]
                edits.append([pos, word])
                flags.insert(pos, True)
                break
    return edits


VOCAB = ["The", "quick", "dog,", '"Dog"', "DOG", "cat.", "runs", "red", "Red!", "tree", "book", "a", "of", "it's",
         "@dog", "(quick)", "book-", "猫"]


@pytest.mark.parametrize("seed", range(30))
def test_synonym_replacement_and_insertion_match_their_definitions(seed):
    rnd = random.Random(seed)
    words = [rnd.choice(VOCAB) for _ in range(rnd.randint(1, 16))]
    editable = [rnd.random() < 0.7 for _ in words] if seed % 2 else None
    n = rnd.randint(1, 4)
    for plan, ref in ((plan_synonym_replacement, _reference_sr), (plan_random_insertion, _reference_ri)):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        assert plan(words, n, a, syn, editable=editable) == ref(words, n, b, editable)
        assert a.random() == b.random()


def _reference_apply(text: str, op: str, edits) -> str:
    parts = re.split(r"(\S+)", text)
    if len(parts) == 1:
        return text
    lead, units, seps = parts[0], parts[1::2], parts[2::2]
    eda._apply_units(units, seps, op, edits)
    return text if not units else lead + "".join(u + s for u, s in zip(units, seps, strict=True))


@pytest.mark.parametrize("seed", range(30))
def test_apply_to_text_fast_paths_match_the_general_path(seed):
    rnd = random.Random(seed)
    seps = [" ", "  ", "\t", "\n", " \n "]
    words = [rnd.choice(VOCAB) for _ in range(rnd.randint(1, 12))]
    text = rnd.choice(["", " ", "\n"]) + "".join(w + rnd.choice(seps) for w in words)[:-1] + rnd.choice(["", "\n"])
    n = len(words)
    rng = np.random.default_rng(seed)
    cases = [("rs", plan_random_swap(words, 3, rng)),
             ("sr", plan_synonym_replacement(words, 2, rng, syn)),
             ("rd", sorted(rnd.sample(range(n), rnd.randint(0, n - 1)))),
             ("ri", [[rnd.randint(0, n), "new"]])]
    for op, edits in cases:
        assert apply_to_text(text, op, edits) == _reference_apply(text, op, edits), (op, edits)
        single = " ".join(words)  # single spaces only (the usual sentence) take a shorter path
        assert apply_to_text(single, op, edits) == _reference_apply(single, op, edits), (op, edits)
    for op, edits in (("rs", [[0, n]]), ("sr", [[0, "nope", "x"]]), ("sr", [[n, words[0], "x"]]),
                      ("rd", list(range(n))), ("rd", [-1]), ("rd", [n])):
        with pytest.raises(ValueError):
            apply_to_text(text, op, edits)


def test_deletion_keeps_the_runs_the_general_path_keeps():
    rnd = random.Random(5)
    for _ in range(2000):
        n = rnd.randint(1, 7)
        text = rnd.choice(["", " ", "\t"]) + "".join(f"w{i}" + rnd.choice([" ", "\n", "  ", "\t "]) for i in range(n))
        text = text[:-1] if rnd.random() < 0.5 else text
        edits = rnd.sample(range(n), rnd.randint(0, n - 1)) + ([0] if n > 2 and rnd.random() < 0.2 else [])
        assert _outcome(apply_to_text, text, edits) == _outcome(_reference_apply, text, edits), (text, edits)


def _outcome(fn, text, edits):
    try:
        return fn(text, "rd", edits)
    except ValueError as exc:  # the same refusal, word for word
        return str(exc)


def test_word_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(eda, "_MAX_UNITS", 5)
    eda._units.clear()
    for i in range(20):
        assert eda._unit(f"word{i},") == eda._Unit("", f"word{i}", ",", f"word{i}", True)
        assert len(eda._units) <= 5


def test_label_protection_with_list_labels_and_memoised_label_words():
    aug = EDA(alpha_sr=0.0, alpha_ri=0.0, alpha_rs=0.0, p_rd=0.9, protect_label=True, input_language=None)
    s = Sample("s", {"text": "a persian cat sat, Persian cat! near the-dog dog"}, label=["persian cat", "dog"])
    # "the-dog" is one token (inner hyphens are kept), not the label word "dog"
    assert aug.editable(s, s["text"]) == [True, False, False, True, False, False, True, True, False]
    for seed in range(20):
        out = aug.augment(s, np.random.default_rng(seed)).fields["text"].split()
        assert {"persian", "cat", "Persian", "cat!", "dog"} <= set(out)
    assert aug.editable(Sample("t", {"text": "a cat"}, label=3), "a cat") == [True, True]


def test_part_of_speech_tags_are_computed_once_per_text(nlp, monkeypatch):
    from crossaug_text import resources

    calls = []
    real = resources.spacy_pipeline

    def counting(model=None):
        calls.append(model)
        return real(model)

    monkeypatch.setattr(resources, "spacy_pipeline", counting)
    resources.spacy_tokens.cache_clear()
    aug = EDA(protect_pos=["NOUN"], input_language=None)
    s = Sample("s", {"text": "the old fisherman mended his torn net slowly"})
    first = aug.editable(s, s["text"])
    nouns = {t.text for t in nlp(s["text"]) if t.pos_ == "NOUN"}
    assert nouns and first == [w not in nouns for w in s["text"].split()]
    for _ in range(3):
        assert aug.editable(s, s["text"]) == first
    assert len(calls) == 1


def _reference_rs(words, n, rng, editable=None):
    """RS from its definition: per swap, a uniform position and a uniform other one among the editable."""
    positions = [i for i in range(len(words)) if editable is None or editable[i]]
    if len(positions) < 2 or n < 1:
        return []
    pairs = []
    for _ in range(n):
        a = int(rng.integers(len(positions)))
        b = int(rng.integers(len(positions) - 1))
        if b >= a:
            b += 1
        pairs.append(sorted([positions[a], positions[b]]))
    return pairs


def _reference_rd(words, p, rng, editable=None):
    """RD from its definition: each editable word with probability p; one kept or one deleted if needed."""
    positions = [i for i in range(len(words)) if editable is None or editable[i]]
    if len(words) <= 1 or p <= 0 or not positions:
        return []
    drop = [bool(u < p) for u in rng.random(len(positions))]
    if all(drop) and len(positions) == len(words):
        drop[int(rng.integers(len(positions)))] = False
    elif not any(drop):
        drop[int(rng.integers(len(positions)))] = True
    return [i for i, gone in zip(positions, drop) if gone]


@pytest.mark.parametrize("seed", range(40))
def test_swap_and_deletion_match_their_definitions_draw_for_draw(seed):
    rnd = random.Random(seed)
    words = [rnd.choice(VOCAB) for _ in range(rnd.randint(0, 14))]
    flags = [None, [True] * len(words), [rnd.random() < 0.6 for _ in words]]
    for editable in flags:
        for n, p in ((1, 0.1), (rnd.randint(1, 5), rnd.choice([0.0, 0.3, 0.9, 1.0]))):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            assert plan_random_swap(words, n, a, editable) == _reference_rs(words, n, b, editable)
            assert plan_random_deletion(words, p, a, editable) == _reference_rd(words, p, b, editable)
            assert a.random() == b.random()  # the same number of draws
