"""Levenshtein distance (bit-parallel, prefix and suffix set aside) against the table written from
its definition, and the edit-distance filter against the function it applies."""

from __future__ import annotations

import random

from crossaug import Sample
from crossaug.builtin.edit_distance import EditDistance, levenshtein, normalised_edit_distance


def table(a, b) -> int:
    """The dynamic-programming table of the definition: d[i][j] for a[:i] and b[:j]."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
    return d[len(a)][len(b)]


def test_levenshtein_is_the_table_for_words_characters_and_long_sequences() -> None:
    rnd = random.Random(0)
    for k in range(3000):
        alphabet = "ab" if k % 3 == 0 else "abcdefgh"  # few symbols: many matches and long runs
        n, m = rnd.randint(0, 12 if k % 10 else 90), rnd.randint(0, 12 if k % 10 else 90)  # some over 64 items
        a = "".join(rnd.choice(alphabet) for _ in range(n))
        b = a[:rnd.randint(0, n)] + "".join(rnd.choice(alphabet) for _ in range(m)) if k % 2 else \
            "".join(rnd.choice(alphabet) for _ in range(m))
        assert levenshtein(a, b) == levenshtein(b, a) == table(a, b), (a, b)
        assert levenshtein(a.split("a"), b.split("a")) == table(a.split("a"), b.split("a"))  # word-like items
    assert levenshtein([[1], [2]], [[1], [3], [2]]) == 1  # unhashable items take the table
    assert levenshtein("", "") == 0 and levenshtein("abc", "") == 3


def test_the_filter_scores_each_candidate_as_the_function_does() -> None:
    rnd = random.Random(1)
    words = "The cat, the dog! A bird sang; it's late. Dogs don't".split()
    parents = [Sample(f"p{i}", {"text": " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12)))})
               for i in range(30)]
    cands, pars = [], []
    for p in parents:
        for j in range(3):  # a parent shared by its candidates
            text = " ".join(rnd.choice(words) for _ in range(rnd.randint(0, 12)))
            cands.append(Sample(f"{p.id}~{j}", {"text": text}))
            pars.append(p)
    for unit in ("word", "char"):
        for normalise in (True, False):
            f = EditDistance(threshold=1.0, unit=unit, normalise=normalise)
            assert f.score_batch(cands, pars) == [
                normalised_edit_distance(p["text"], c["text"], unit, normalise) for c, p in zip(cands, pars)]
