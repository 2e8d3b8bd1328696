"""Fast paths of protected spans and EDA random swap give what the plain definitions give."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
from crossaug_text.eda import plan_random_swap
from crossaug_text.protected import PATTERNS, ProtectedSpan, protected_spans

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
