"""Fast paths of protected spans, protected words and EDA random swap give what the plain definitions give."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
from crossaug import Sample
from crossaug_text.eda import EDA, plan_random_swap
from crossaug_text.protected import PATTERNS, ProtectedSpan, may_have_spans, protected_spans, unprotected

ATOMS = ["see", "https://x.org/a", "www.site.com", "a@b.co", "@john_doe", "#deal", "$999", "3.5%", "12:30",
         "`code`", "snake_case", "camelCase", "call()", "a.b.c", "~/p/q", "<b>", "x==y", "a->b", "C++",
         "a::b", "The", "cat.", "example.com", "(x)", "e.g.", "1/2", "foo/bar/baz", "&&", "||", "Ab", "aB", "٣",
         "x=y", "a:b", "a+b", "A|B", "-", "www.x", "ftp://h", "end.", "...", "i.e", "é", "<", ">", "²", "_"]


def plain_spans(text: str) -> list[ProtectedSpan]:
    """Every pattern scanned in order, earlier kinds winning overlaps (the definition, no skipping)."""
    taken: list[ProtectedSpan] = []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.span()
            if e > s and not any(s < t.end and t.start < e for t in taken):
                taken.append(ProtectedSpan(s, e, kind, m.group()))
    return sorted(taken)


def test_skipping_patterns_that_cannot_match_changes_no_span() -> None:
    rnd = random.Random(0)
    for _ in range(3000):
        text = " ".join(rnd.choice(ATOMS) for _ in range(rnd.randint(1, 8)))
        if rnd.random() < 0.3:
            text = text.replace(" ", rnd.choice(["", ".", "/", "_"]), 1)
        assert protected_spans(text) == plain_spans(text), text


#: the screen's definition, as one expression: a character of these, ``www.``, a dot before a word
#: character, a digit, or a lower-case letter before a capital
ANY_SPAN = re.compile(r"[`@#/(<_=>:+&|]|www\.|\.\w|\d|[a-z][A-Z]")


def test_span_screen_is_the_single_expression_and_no_text_it_passes_has_a_span() -> None:
    rnd = random.Random(3)
    chars = "aAzZbY .,w`@#/(<_=>:+&|1٣é²\n-~"
    texts = ["", "The quick brown fox.", "aB", "Ab", "xY", "éB", "a\nB", "www.", "www", ".a", "._", ". a"]
    texts += ["".join(rnd.choice(chars) for _ in range(rnd.randint(0, 12))) for _ in range(20000)]
    texts += _texts(3000, 5)
    passed = 0
    for text in texts:
        assert may_have_spans(text) is (ANY_SPAN.search(text) is not None), text
        if not may_have_spans(text):
            passed += 1
            assert plain_spans(text) == [], text
    assert passed > 1000  # plenty of texts without a span were checked against every pattern


def _texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        text = rnd.choice(["", "  ", "\t"]).join(rnd.choice(ATOMS) for _ in range(rnd.randint(1, 10)))
        out.append(text.replace(" ", rnd.choice(["", ".", "/", "_", "\n", "   "]), 1) if rnd.random() < 0.3 else text)
    return out


def test_unprotected_is_no_overlap_with_any_span_for_words_and_any_sorted_ranges() -> None:
    rnd = random.Random(1)
    for text in _texts(3000, 1):
        spans = protected_spans(text)
        words = [m.span() for m in re.finditer(r"\S+", text)]
        ranges = sorted((a, rnd.randint(a, len(text))) for a in (rnd.randint(0, len(text)) for _ in range(6)))
        for rs in (words, ranges):
            plain = [not any(a < s.end and s.start < b for s in spans) for a, b in rs]
            assert unprotected(rs, spans) == plain, (text, rs)


def test_eda_protected_words_once_per_text_are_the_per_word_overlaps() -> None:
    aug = EDA()
    for text in _texts(1500, 2):
        if not text.split():
            continue
        spans = protected_spans(text)
        plain = [not any(m.start() < s.end and s.start < m.end() for s in spans) for m in re.finditer(r"\S+", text)]
        sample = Sample("s", {"text": text})
        for _ in range(2):  # computed, then remembered for the text
            assert aug.editable(sample, text) == plain, text


def test_random_swap_pairs_are_uniform_and_distinct() -> None:
    rng = np.random.default_rng(0)
    draws = 30000
    counts = Counter(tuple(plan_random_swap(list("abcd"), 1, rng)[0]) for _ in range(draws))
    assert set(counts) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}  # distinct, sorted
    expected = draws / 6
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert chi2 < 20.5  # 5 degrees of freedom, p = 0.001
    assert plan_random_swap(list("a"), 3, rng) == [] and plan_random_swap(list("ab"), 0, rng) == []
    editable = [True, False, True, False, True]
    assert all(i in (0, 2, 4) and j in (0, 2, 4) for i, j in plan_random_swap(list("abcde"), 50, rng, editable))
